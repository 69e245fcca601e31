package api

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tact-hq/tact/daemon/queue"
)

// CampaignInput creates a campaign. Durations are Go duration strings ("2h", "48h").
type CampaignInput struct {
	Name     string   `json:"name"`
	Accounts []string `json:"accounts"`
	Topics   []string `json:"topics"`
	TimeZone string   `json:"timezone"`
	Approval string   `json:"approval"` // required (default) | autopilot
	Veto     string   `json:"veto"`     // autopilot: approve this long before due (default 2h)
	Late     string   `json:"late"`     // grace for overdue posts (default 30m)
	Schedule string   `json:"schedule"` // cron spec for a recurring campaign
	Pool     []string `json:"pool"`     // texts used in turn at each tick
	Lead     string   `json:"lead"`     // how far ahead ticks become posts (default 48h)
}

// CampaignPatch changes a campaign; absent fields stay as they are.
type CampaignPatch struct {
	Name     *string   `json:"name"`
	Accounts *[]string `json:"accounts"`
	Topics   *[]string `json:"topics"`
	TimeZone *string   `json:"timezone"`
	Approval *string   `json:"approval"`
	Veto     *string   `json:"veto"`
	Late     *string   `json:"late"`
	Schedule *string   `json:"schedule"`
	Pool     *[]string `json:"pool"`
	Lead     *string   `json:"lead"`
	Version  int64     `json:"version"`
}

// ReasonInput is the body of a pause.
type ReasonInput struct {
	Reason  string `json:"reason"`
	Version int64  `json:"version"`
}

// VersionInput is the optional body of a resume.
type VersionInput struct {
	Version int64 `json:"version"`
}

// nameRE is what campaign and user names may look like: they appear in URLs and commands.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkName(field, name string) error {
	if !nameRE.MatchString(name) {
		return queue.Errorf(queue.Invalid, field, "%s %q is not allowed: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", field, name)
	}
	return nil
}

// campaign finds a campaign by name, or by id when ref is a number no campaign is named.
func (s *server) campaign(r *http.Request, ref string) (*queue.Campaign, error) {
	return findCampaign(r.Context(), s.opt.Store, ref)
}

// findCampaign finds a campaign by name or, failing that, by id.
func findCampaign(ctx context.Context, store queue.Store, ref string) (*queue.Campaign, error) {
	c, err := store.CampaignByName(ctx, ref)
	if queue.ErrorKind(err) == queue.NotFound {
		if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
			if c, err2 := store.Campaign(ctx, id); err2 == nil {
				return c, nil
			}
		}
		return nil, queue.Errorf(queue.NotFound, "campaign", "no campaign named %q; 'tactctl campaign list' shows them", ref)
	}
	return c, err
}

func (s *server) listCampaigns(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	state := queue.CampaignState(r.URL.Query().Get("state"))
	switch state {
	case "", queue.CampaignActive, queue.CampaignPaused, queue.CampaignArchived:
	default:
		return queue.Errorf(queue.Invalid, "state", "unknown campaign state %q: use active, paused or archived", state)
	}
	cs, err := s.opt.Store.Campaigns(r.Context(), queue.CampaignFilter{State: state, CountOpen: true})
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []*queue.Campaign{}
	}
	writeJSON(w, http.StatusOK, List[*queue.Campaign]{Items: cs})
	return nil
}

func (s *server) getCampaign(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	c, err := s.campaign(r, r.PathValue("campaign"))
	if err != nil {
		return err
	}
	setETag(w, c.Version)
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *server) createCampaign(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	var in CampaignInput
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	c := &queue.Campaign{Name: strings.TrimSpace(in.Name), Accounts: in.Accounts, Topics: in.Topics,
		TimeZone: in.TimeZone, Approval: queue.ApprovalMode(in.Approval), Schedule: strings.TrimSpace(in.Schedule), Pool: in.Pool}
	var err error
	if c.Veto, err = parseDuration("veto", in.Veto); err != nil {
		return err
	}
	if c.Late, err = parseDuration("late", in.Late); err != nil {
		return err
	}
	if c.Lead, err = parseDuration("lead", in.Lead); err != nil {
		return err
	}
	if c.TimeZone == "" {
		c.TimeZone = s.opt.DefaultTimeZone
	}
	if err := s.checkCampaign(r, c); err != nil {
		return err
	}
	if err := s.opt.Store.CreateCampaign(r.Context(), actor(u), c); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/campaigns/"+c.Name)
	setETag(w, c.Version)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *server) updateCampaign(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	c, err := s.campaign(r, r.PathValue("campaign"))
	if err != nil {
		return err
	}
	var in CampaignPatch
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	version, err := expectedVersion(r, in.Version)
	if err != nil {
		return err
	}
	if version != 0 && version != c.Version {
		return s.campaignConflict(c, version)
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&c.Name, in.Name)
	if in.TimeZone != nil && strings.TrimSpace(*in.TimeZone) == "" {
		// On create an empty zone is the daemon's default; here it would silently be UTC.
		return queue.Errorf(queue.Invalid, "timezone", "timezone is empty: name an IANA time zone such as \"Europe/Paris\", or leave the field out to keep %q", c.TimeZone)
	}
	set(&c.TimeZone, in.TimeZone)
	set(&c.Schedule, in.Schedule)
	if in.Accounts != nil {
		c.Accounts = *in.Accounts
	}
	if in.Topics != nil {
		c.Topics = *in.Topics
	}
	if in.Pool != nil {
		c.Pool = *in.Pool
	}
	if in.Approval != nil {
		c.Approval = queue.ApprovalMode(*in.Approval)
	}
	for _, d := range []struct {
		field string
		src   *string
		dst   *queue.Duration
	}{{"veto", in.Veto, &c.Veto}, {"late", in.Late, &c.Late}, {"lead", in.Lead, &c.Lead}} {
		if d.src != nil {
			if *d.dst, err = parseDuration(d.field, *d.src); err != nil {
				return err
			}
		}
	}
	if err := s.checkCampaign(r, c); err != nil {
		return err
	}
	if err := s.opt.Store.UpdateCampaign(r.Context(), actor(u), c); err != nil {
		if queue.ErrorKind(err) == queue.Conflict {
			if cur, gerr := s.opt.Store.Campaign(r.Context(), c.ID); gerr == nil {
				return &detailError{err: err, campaign: cur}
			}
		}
		return err
	}
	c, err = s.opt.Store.Campaign(r.Context(), c.ID)
	if err != nil {
		return err
	}
	s.kick()
	setETag(w, c.Version)
	writeJSON(w, http.StatusOK, c)
	return nil
}

// checkCampaign validates what a person may set, naming the field at fault, and fills
// defaults. The store checks the rest (the lead against [daemon] max_lead, queue.Limits).
func (s *server) checkCampaign(r *http.Request, c *queue.Campaign) error {
	if err := checkName("name", c.Name); err != nil {
		return err
	}
	if len(c.Accounts) == 0 {
		return queue.Errorf(queue.Invalid, "accounts", "a campaign needs at least one account (GET /api/v1/accounts lists the configured ones)")
	}
	if err := s.checkAccounts(r, c.Accounts); err != nil {
		return err
	}
	for _, t := range c.Topics {
		if strings.TrimSpace(t) == "" {
			return queue.Errorf(queue.Invalid, "topics", "topics must not be empty strings")
		}
	}
	if c.TimeZone != "" { // "" (stored before zones were required) is the daemon's default
		if _, err := queue.LoadZone("timezone", c.TimeZone); err != nil {
			return err
		}
	}
	if c.Approval == "" {
		c.Approval = queue.ApprovalRequired
	}
	if !c.Approval.Valid() {
		return queue.Errorf(queue.Invalid, "approval", "unknown approval mode %q: use required or autopilot", c.Approval)
	}
	if c.Approval == queue.ApprovalAutopilot && c.Veto == 0 {
		c.Veto = queue.Duration(queue.DefaultVeto)
	}
	if c.Late == 0 {
		c.Late = queue.Duration(s.opt.DefaultLate)
	}
	if c.Schedule != "" {
		if err := queue.CheckSchedule(c.Schedule, c.TimeZone); err != nil {
			return err
		}
		if len(c.Pool) == 0 {
			return queue.Errorf(queue.Invalid, "pool", "a recurring campaign needs a pool of texts to post at each tick")
		}
		if c.Lead == 0 {
			c.Lead = queue.Duration(queue.DefaultLead)
		}
	} else if len(c.Pool) > 0 {
		return queue.Errorf(queue.Invalid, "schedule", "a pool needs a schedule: set schedule to a cron spec, or leave the pool out")
	}
	for i, t := range c.Pool {
		if strings.TrimSpace(t) == "" {
			return queue.Errorf(queue.Invalid, "pool", "pool entry %d is empty", i+1)
		}
	}
	return nil
}

// checkAccounts refuses account names that are not configured.
func (s *server) checkAccounts(r *http.Request, names []string) error {
	if s.opt.Accounts == nil {
		return unavailable("the account list")
	}
	infos, err := s.opt.Accounts.Accounts(r.Context())
	if err != nil {
		return err
	}
	known := make([]string, 0, len(infos))
	for _, a := range infos {
		known = append(known, a.Name)
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return queue.Errorf(queue.Invalid, "accounts", "unknown account %q; configured accounts: %s", n, strings.Join(known, ", "))
		}
	}
	return nil
}

func (s *server) campaignConflict(c *queue.Campaign, version int64) error {
	return &detailError{err: queue.Errorf(queue.Conflict, "version",
		"campaign %q changed: you have version %d, it is now version %d; look at it again and retry", c.Name, version, c.Version), campaign: c}
}

func (s *server) pauseCampaign(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	c, err := s.campaign(r, r.PathValue("campaign"))
	if err != nil {
		return err
	}
	var in ReasonInput
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	if strings.TrimSpace(in.Reason) == "" {
		return queue.Errorf(queue.Invalid, "reason", "a reason is required: say why the campaign stops (people see it, and the audit log keeps it)")
	}
	if err := s.checkCampaignVersion(r, c, in.Version); err != nil {
		return err
	}
	if c.State == queue.CampaignPaused {
		return &detailError{err: queue.Errorf(queue.Conflict, "", "campaign %q is already paused", c.Name), campaign: c}
	}
	paused, err := s.opt.Store.PauseCampaigns(r.Context(), []int64{c.ID}, queue.Pause{By: actor(u), Reason: strings.TrimSpace(in.Reason), At: s.now()})
	if err != nil {
		return err
	}
	c, err = s.opt.Store.Campaign(r.Context(), c.ID)
	if err != nil {
		return err
	}
	if len(paused) == 0 {
		return &detailError{err: queue.Errorf(queue.Conflict, "", "campaign %q was not paused: it is %s", c.Name, c.State), campaign: c}
	}
	setETag(w, c.Version)
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *server) resumeCampaign(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	c, err := s.campaign(r, r.PathValue("campaign"))
	if err != nil {
		return err
	}
	var in VersionInput
	if err := s.decode(w, r, &in, true); err != nil {
		return err
	}
	if err := s.checkCampaignVersion(r, c, in.Version); err != nil {
		return err
	}
	if c.State != queue.CampaignPaused {
		return &detailError{err: queue.Errorf(queue.Conflict, "", "campaign %q is %s, not paused: nothing to resume", c.Name, c.State), campaign: c}
	}
	if err := s.opt.Store.ResumeCampaign(r.Context(), actor(u), c.ID); err != nil {
		return err
	}
	c, err = s.opt.Store.Campaign(r.Context(), c.ID)
	if err != nil {
		return err
	}
	s.kick()
	setETag(w, c.Version)
	writeJSON(w, http.StatusOK, c)
	return nil
}

// checkCampaignVersion honours If-Match on pause and resume. The store's pause and resume
// take no version, so this check is not atomic with the change; it still stops a person
// acting on a campaign they saw before someone else changed it.
func (s *server) checkCampaignVersion(r *http.Request, c *queue.Campaign, body int64) error {
	v, err := expectedVersion(r, body)
	if err != nil {
		return err
	}
	if v != 0 && v != c.Version {
		return s.campaignConflict(c, v)
	}
	return nil
}

func (s *server) pauseAll(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	var in ReasonInput
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	if strings.TrimSpace(in.Reason) == "" {
		return queue.Errorf(queue.Invalid, "reason", "a reason is required: say why everything stops (people see it, and the audit log keeps it)")
	}
	n, err := s.opt.Store.PauseAll(r.Context(), actor(u), strings.TrimSpace(in.Reason))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Count{Count: n})
	return nil
}

func (s *server) resumeAll(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	var in struct{}
	if err := s.decode(w, r, &in, true); err != nil {
		return err
	}
	n, err := s.opt.Store.ResumeAll(r.Context(), actor(u))
	if err != nil {
		return err
	}
	s.kick()
	writeJSON(w, http.StatusOK, Count{Count: n})
	return nil
}

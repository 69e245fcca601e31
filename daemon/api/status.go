package api

import (
	"net/http"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// Status is the answer of GET /api/v1/status.
type Status struct {
	Version       string                      `json:"version"`
	StartedAt     time.Time                   `json:"started_at"`
	Uptime        string                      `json:"uptime"`
	Now           time.Time                   `json:"now"`
	Posts         map[queue.PostState]int     `json:"posts"`
	Campaigns     map[queue.CampaignState]int `json:"campaigns"`
	Paused        []PausedCampaign            `json:"paused_campaigns"`
	OpenIncidents []*queue.Incident           `json:"open_incidents"`
	Accounts      []AccountInfo               `json:"accounts"`
	Rules         *RulesSummary               `json:"rules,omitempty"`
	// Feeds are the news feeds watched for context and how their last polls went, so that
	// a broken feed is seen (it is never fatal).
	Feeds []FeedInfo `json:"feeds,omitempty"`
	// Missing names the services this daemon runs without.
	Missing []string `json:"missing,omitempty"`
}

// FeedInfo is one news feed's health.
type FeedInfo struct {
	Name      string    `json:"name"`
	URL       string    `json:"url"` // without its secrets: docs/operations.md, "Secrets"
	LastOK    time.Time `json:"last_ok,omitzero"`
	LastError string    `json:"last_error,omitempty"` // "" when the last poll succeeded
	ErrorAt   time.Time `json:"error_at,omitzero"`
	Failures  int       `json:"failures"` // consecutive failed polls
}

// FeedReporter is implemented by a Watch that polls feeds; the status reports them.
type FeedReporter interface {
	Feeds() []FeedInfo
}

// PausedCampaign is a paused campaign and why.
type PausedCampaign struct {
	Name  string       `json:"name"`
	Pause *queue.Pause `json:"pause,omitempty"`
}

// RulesSummary is the rule set in brief.
type RulesSummary struct {
	Count           int       `json:"count"`
	LoadedAt        time.Time `json:"loaded_at"`
	LastReloadAt    time.Time `json:"last_reload_at,omitzero"`
	LastReloadError string    `json:"last_reload_error,omitempty"`
}

func (s *server) status(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	ctx := r.Context()
	now := s.now()
	st := Status{Version: s.opt.Version, StartedAt: s.started.UTC(), Now: now.UTC(),
		Uptime: now.Sub(s.started).Round(time.Second).String(),
		Posts:  map[queue.PostState]int{}, Campaigns: map[queue.CampaignState]int{},
		Paused: []PausedCampaign{}, Accounts: []AccountInfo{}}
	for _, ps := range queue.PostStates {
		st.Posts[ps] = 0
	}
	counts, err := s.opt.Store.CountPosts(ctx)
	if err != nil {
		return err
	}
	for k, n := range counts {
		st.Posts[k] = n
	}
	cs, err := s.opt.Store.Campaigns(ctx, queue.CampaignFilter{})
	if err != nil {
		return err
	}
	for _, cs := range []queue.CampaignState{queue.CampaignActive, queue.CampaignPaused, queue.CampaignArchived} {
		st.Campaigns[cs] = 0
	}
	for _, c := range cs {
		st.Campaigns[c.State]++
		if c.State == queue.CampaignPaused {
			st.Paused = append(st.Paused, PausedCampaign{Name: c.Name, Pause: c.Pause})
		}
	}
	if st.OpenIncidents, err = s.opt.Store.Incidents(ctx, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}, Limit: 100}); err != nil {
		return err
	}
	if st.OpenIncidents == nil {
		st.OpenIncidents = []*queue.Incident{}
	}
	if s.opt.Accounts != nil {
		if st.Accounts, err = s.opt.Accounts.Accounts(ctx); err != nil {
			return err
		}
	} else {
		st.Missing = append(st.Missing, "accounts")
		ss, err := s.opt.Store.AccountStatuses(ctx)
		if err != nil {
			return err
		}
		for _, a := range ss {
			st.Accounts = append(st.Accounts, AccountInfo{Name: a.Account, Healthy: a.Healthy, Detail: a.Detail, UpdatedAt: a.UpdatedAt})
		}
	}
	if s.opt.Rules != nil {
		rs := s.opt.Rules.Status()
		st.Rules = &RulesSummary{Count: len(rs.Rules), LoadedAt: rs.LoadedAt, LastReloadAt: rs.LastReloadAt, LastReloadError: rs.LastReloadError}
	} else {
		st.Missing = append(st.Missing, "rules")
	}
	if s.opt.Watch == nil {
		st.Missing = append(st.Missing, "watch")
	} else if fr, ok := s.opt.Watch.(FeedReporter); ok {
		st.Feeds = fr.Feeds()
	}
	if s.opt.Validator == nil {
		st.Missing = append(st.Missing, "validator")
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

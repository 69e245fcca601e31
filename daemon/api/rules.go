package api

import (
	"net/http"
	"sort"
	"strings"

	"github.com/tact-hq/tact/daemon/queue"
)

// PreviewInput is a candidate rule set: file name -> TOML contents.
type PreviewInput struct {
	Files map[string]string `json:"files"`
}

func (s *server) rulesStatus(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	if s.opt.Rules == nil {
		return unavailable("the rules engine")
	}
	writeJSON(w, http.StatusOK, s.opt.Rules.Status())
	return nil
}

// rulesReload reloads the rule files and audits who asked (the rules manager audits the
// reload itself, as the system). A failed reload is the admin's input at fault (the
// message names file and line), so its text is shown, as a 400; the old rules stay.
func (s *server) rulesReload(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	if s.opt.Rules == nil {
		return unavailable("the rules engine")
	}
	var in struct{}
	if err := s.decode(w, r, &in, true); err != nil {
		return err
	}
	err := s.opt.Rules.Reload(r.Context())
	entry := queue.AuditEntry{At: s.now().UTC(), Actor: actor(u), Action: "rules.reload", Object: "rules", Detail: "requested through the API: ok"}
	if err != nil {
		entry.Detail = "requested through the API: failed: " + err.Error()
	}
	if aerr := s.opt.Store.Audit(r.Context(), entry); aerr != nil {
		return aerr
	}
	if err != nil {
		return ruleError("reloading the rules failed; the previous rules stay in force", err)
	}
	writeJSON(w, http.StatusOK, s.opt.Rules.Status())
	return nil
}

func (s *server) rulesPreview(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	if s.opt.Rules == nil {
		return unavailable("the rules engine")
	}
	var in PreviewInput
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	if len(in.Files) == 0 {
		return queue.Errorf(queue.Invalid, "files", "files is required: rule file name -> TOML contents")
	}
	files := make(map[string][]byte, len(in.Files))
	for name, body := range in.Files {
		if !strings.HasSuffix(name, ".toml") {
			return queue.Errorf(queue.Invalid, "files", "rule file %q must end in .toml", name)
		}
		files[name] = []byte(body)
	}
	p, err := s.opt.Rules.Preview(r.Context(), files)
	if err != nil {
		return ruleError("the rule files are invalid", err)
	}
	if p.Campaigns == nil {
		p.Campaigns = []PreviewCampaign{}
	}
	if p.Posts == nil {
		p.Posts = []PreviewPost{}
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// ruleError shows a rules error's text: it is about files the admin wrote.
func ruleError(msg string, err error) error {
	if queue.ErrorKind(err) != "" {
		return err
	}
	return &queue.Error{Kind: queue.Invalid, Message: msg, Err: err}
}

// PluginInfo is one plugin in use and the accounts it serves.
type PluginInfo struct {
	Name     string   `json:"name"`
	Version  string   `json:"version,omitempty"`
	Accounts []string `json:"accounts"`
	Healthy  bool     `json:"healthy"` // every account of the plugin is healthy
}

func (s *server) listAccounts(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	if s.opt.Accounts == nil {
		return unavailable("the account list")
	}
	as, err := s.opt.Accounts.Accounts(r.Context())
	if err != nil {
		return err
	}
	if as == nil {
		as = []AccountInfo{}
	}
	writeJSON(w, http.StatusOK, List[AccountInfo]{Items: as})
	return nil
}

func (s *server) listPlugins(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	if s.opt.Accounts == nil {
		return unavailable("the plugin list")
	}
	as, err := s.opt.Accounts.Accounts(r.Context())
	if err != nil {
		return err
	}
	byName := map[string]*PluginInfo{}
	for _, a := range as {
		p := byName[a.Plugin]
		if p == nil {
			p = &PluginInfo{Name: a.Plugin, Version: a.PluginVersion, Healthy: true}
			byName[a.Plugin] = p
		}
		p.Accounts = append(p.Accounts, a.Name)
		p.Healthy = p.Healthy && a.Healthy
	}
	out := make([]PluginInfo, 0, len(byName))
	for _, p := range byName {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, http.StatusOK, List[PluginInfo]{Items: out})
	return nil
}

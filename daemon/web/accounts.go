package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/connect"
)

// Connector connects accounts (daemon/connect.Service): the accounts page's Connect button
// and app password forms, and the network's way back (GET /oauth/callback).
type Connector interface {
	api.Connector
	// CanConnect says why accounts connected by m cannot be connected now (nil: they can).
	CanConnect(m connect.Method) error
}

type accountsData struct {
	Accounts   []accountRow
	Configured bool // the account list is available
	// Blocked says why Connect buttons would be refused now (no secrets_key, no public_url).
	BlockedOAuth, BlockedPassword string
}

type accountRow struct {
	api.AccountInfo
	Fields []connect.Field // the app password form's, for a Password account
}

func (h *Handler) accountsPage(w http.ResponseWriter, rq *request) {
	d := accountsData{Configured: h.opt.Accounts != nil}
	if h.opt.Accounts != nil {
		infos, err := h.opt.Accounts.Accounts(rq.Context())
		if err != nil {
			h.internal(w, rq, "list the accounts", err)
			return
		}
		sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
		for _, a := range infos {
			row := accountRow{AccountInfo: a}
			if a.Connect == string(connect.Password) {
				row.Fields = connect.PasswordFields[a.Plugin]
			}
			d.Accounts = append(d.Accounts, row)
		}
	}
	switch {
	case h.opt.Connector == nil:
		d.BlockedOAuth = "Connecting accounts is not available in this daemon."
		d.BlockedPassword = d.BlockedOAuth
	default:
		if err := h.opt.Connector.CanConnect(connect.OAuth); err != nil {
			d.BlockedOAuth = err.Error()
		}
		if err := h.opt.Connector.CanConnect(connect.Password); err != nil {
			d.BlockedPassword = err.Error()
		}
	}
	h.render(w, rq.Request, rq, http.StatusOK, "accounts", "Accounts", d)
}

type leavingData struct {
	Account string
	AuthURL string
	Host    string
}

// connectAccount starts the account's OAuth flow and sends the browser to the network's
// consent page. The answer is a page that moves on by itself (meta refresh) rather than a
// redirect: the UI's CSP allows forms to submit only to this site ("form-action 'self'"),
// which browsers apply to the redirects that follow a form too, and the page names the
// site the person is sent to.
func (h *Handler) connectAccount(w http.ResponseWriter, rq *request) {
	name := rq.PathValue("name")
	if h.opt.Connector == nil {
		h.done(w, rq, "/accounts", "error", "Connecting accounts is not available in this daemon.")
		return
	}
	st, err := h.opt.Connector.Start(rq.Context(), rq.user, name)
	if err != nil {
		h.done(w, rq, "/accounts", "error", h.explain(rq.Context(), err, "connect "+name))
		return
	}
	u, err := url.Parse(st.AuthURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		h.done(w, rq, "/accounts", "error", fmt.Sprintf("Could not connect %s: the plugin gave a consent page that is not a web address; report it to the plugin's authors.", name))
		return
	}
	h.render(w, rq.Request, rq, http.StatusOK, "leaving", "Connect "+name, leavingData{Account: name, AuthURL: u.String(), Host: u.Host})
}

// connectPassword connects an app password account from its form.
func (h *Handler) connectPassword(w http.ResponseWriter, rq *request) {
	name := rq.PathValue("name")
	if h.opt.Connector == nil {
		h.done(w, rq, "/accounts", "error", "Connecting accounts is not available in this daemon.")
		return
	}
	typed := map[string]string{}
	for k, vs := range rq.PostForm {
		if k != "csrf" && len(vs) > 0 {
			typed[k] = vs[0]
		}
	}
	c, err := h.opt.Connector.ConnectPassword(rq.Context(), rq.user, name, typed)
	if err != nil {
		h.done(w, rq, "/accounts", "error", h.explain(rq.Context(), err, "connect "+name))
		return
	}
	msg := fmt.Sprintf("Connected %s as %s.", name, c.Subject)
	if c.Warning != "" {
		h.done(w, rq, "/accounts", "error", msg+" But its plugin did not take the credentials yet (tact tries again): "+c.Warning)
		return
	}
	h.done(w, rq, "/accounts", "ok", msg)
}

type connectedData struct {
	Connected connect.Connected
	Problem   string
	Next      string
}

// oauthCallback is where the network sends the browser back. It needs no session: the
// state authenticates it (once). It may also carry the session cookie: the page then
// shows the menu.
func (h *Handler) oauthCallback(w http.ResponseWriter, r *http.Request) {
	var rq *request
	if u, s, ok := h.sessionFrom(r); ok {
		rq = &request{Request: r, user: u, sess: s}
	}
	if h.opt.Connector == nil {
		h.fail(w, r, rq, http.StatusServiceUnavailable, "Connecting accounts is not available in this daemon.", "Ask an admin to check the daemon's log.")
		return
	}
	q := r.URL.Query()
	c, err := h.opt.Connector.Finish(r.Context(), connect.Answer{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), Description: q.Get("error_description")})
	if err != nil {
		status := api.StatusFor(r.Context(), err)
		if status == http.StatusInternalServerError {
			h.log.ErrorContext(r.Context(), "web: oauth callback", "err", err)
		}
		h.render(w, r, rq, status, "connected", "Not connected", connectedData{Problem: h.explain(r.Context(), err, "connect the account"),
			Next: "Go back to the Accounts page and press Connect again."})
		return
	}
	h.render(w, r, rq, http.StatusOK, "connected", "Connected", connectedData{Connected: c})
}

package api

import (
	"context"
	"net/http"
	"time"

	"github.com/tact-hq/tact/daemon/connect"
	"github.com/tact-hq/tact/daemon/queue"
)

// Connector connects accounts from tact (daemon/connect.Service; docs/operations.md,
// "Connecting accounts"). The web UI offers the same actions, and answers the network's
// redirect back (GET /oauth/callback).
type Connector interface {
	// Start begins the OAuth flow of an account: the consent page to open.
	Start(ctx context.Context, by *queue.User, account string) (connect.Started, error)
	// ConnectPassword connects an account by the settings a person typed (an app password).
	ConnectPassword(ctx context.Context, by *queue.User, account string, typed map[string]string) (connect.Connected, error)
	// Finish completes an OAuth flow from the network's answer.
	Finish(ctx context.Context, a connect.Answer) (connect.Connected, error)
}

// ConnectInput is the body of POST /api/v1/accounts/{name}/connect: empty for an account
// that connects through its network's consent page; the settings a person typed (Bluesky:
// identifier and app_password) for one that connects with an app password.
type ConnectInput struct {
	Settings map[string]string `json:"settings,omitempty"`
}

// ConnectAnswer is what POST /api/v1/accounts/{name}/connect answers: the page to open and
// until when (OAuth), or the account connected (app password).
type ConnectAnswer struct {
	Account   string    `json:"account"`
	AuthURL   string    `json:"auth_url,omitempty"`
	State     string    `json:"state,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Connected is set when the account is connected already (app password).
	Connected      bool      `json:"connected"`
	Subject        string    `json:"subject,omitempty"`
	TokenExpiresAt time.Time `json:"token_expires_at,omitzero"`
	Warning        string    `json:"warning,omitempty"`
}

func (s *server) connectAccount(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	if s.opt.Connector == nil {
		return unavailable("connecting accounts")
	}
	var in ConnectInput
	if err := s.decode(w, r, &in, true); err != nil {
		return err
	}
	name := r.PathValue("name")
	if len(in.Settings) > 0 {
		c, err := s.opt.Connector.ConnectPassword(r.Context(), u, name, in.Settings)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, ConnectAnswer{Account: c.Account, Connected: true, Subject: c.Subject, TokenExpiresAt: c.ExpiresAt, Warning: c.Warning})
		return nil
	}
	st, err := s.opt.Connector.Start(r.Context(), u, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ConnectAnswer{Account: st.Account, AuthURL: st.AuthURL, State: st.State, ExpiresAt: st.ExpiresAt})
	return nil
}

// Connection is an account's connection made from tact, as GET /api/v1/accounts shows
// it: who it acts as and how long it lasts, never the credentials.
type Connection struct {
	Kind             string    `json:"kind"` // "oauth" or "password"
	Subject          string    `json:"connected_as,omitempty"`
	ConnectedAt      time.Time `json:"connected_at"`
	ConnectedBy      string    `json:"connected_by"`
	TokenExpiresAt   time.Time `json:"token_expires_at,omitzero"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at,omitzero"`
	RefreshedAt      time.Time `json:"refreshed_at,omitzero"`
	// RefreshAt is when tact refreshes the token next (zero: it is not refreshed).
	RefreshAt    time.Time `json:"refresh_at,omitzero"`
	RefreshError string    `json:"refresh_error,omitempty"`
}

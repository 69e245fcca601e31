package sdk

import (
	"context"
	"time"
)

// Authorizer is implemented by networks whose accounts connect through OAuth 2.0: the
// authorization code flow with PKCE (S256) and a state, and refresh tokens. List "oauth"
// in Capabilities. The daemon runs the flow (tactctl account connect, the web UI's
// Connect button), keeps the credentials encrypted, refreshes them before they expire, and
// hands the current ones to Configure as the settings named in CredentialSettings
// (docs/plugins.md, "Connecting accounts").
type Authorizer interface {
	// AuthCodeURL is the network's consent page for this request. Configure has run with the
	// account's app settings (client id and secret), not necessarily with credentials.
	AuthCodeURL(ctx context.Context, req AuthRequest) (string, error)
	// Exchange trades the code the network sent back for credentials, and says who they act
	// as.
	Exchange(ctx context.Context, req ExchangeRequest) (Credentials, error)
	// Refresh uses c.RefreshToken for new credentials. A refresh token the network refuses is
	// an Auth error: the account needs a person to connect it again.
	Refresh(ctx context.Context, c Credentials) (Credentials, error)
}

// AuthRequest is what the consent page URL carries.
type AuthRequest struct {
	RedirectURI   string // the daemon's callback, registered with the network's app
	State         string // opaque, checked by the daemon on the way back
	CodeChallenge string // base64url(SHA-256(verifier)), method S256
}

// ExchangeRequest is the way back from the consent page.
type ExchangeRequest struct {
	Code         string
	CodeVerifier string
	RedirectURI  string
}

// Credentials are an account's tokens and what the network said about them.
type Credentials struct {
	AccessToken  string
	RefreshToken string
	// ExpiresAt is when AccessToken stops working; zero: it does not expire.
	ExpiresAt time.Time
	// RefreshExpiresAt is when RefreshToken stops working; zero: not known or never.
	RefreshExpiresAt time.Time
	// Subject is who the credentials act as, shown to people ("urn:li:organization:123",
	// "@brand", "Brand Page").
	Subject string
	// Extra carries what else Configure needs from the flow (a page id and its token), as
	// settings.
	Extra map[string]string
}

// The settings Configure receives for an account connected through Authorizer, beside its
// own from tact.toml. Times are RFC 3339.
const (
	SettingAccessToken      = "access_token"
	SettingRefreshToken     = "refresh_token"
	SettingExpiresAt        = "token_expires_at"
	SettingRefreshExpiresAt = "refresh_expires_at"
	SettingSubject          = "subject"
)

// CredentialSettings turns c into the settings Configure receives.
func CredentialSettings(c Credentials) map[string]string {
	out := map[string]string{}
	for k, v := range c.Extra {
		out[k] = v
	}
	out[SettingAccessToken] = c.AccessToken
	if c.RefreshToken != "" {
		out[SettingRefreshToken] = c.RefreshToken
	}
	if !c.ExpiresAt.IsZero() {
		out[SettingExpiresAt] = c.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if !c.RefreshExpiresAt.IsZero() {
		out[SettingRefreshExpiresAt] = c.RefreshExpiresAt.UTC().Format(time.RFC3339)
	}
	if c.Subject != "" {
		out[SettingSubject] = c.Subject
	}
	return out
}

// CredentialsFrom reads back what CredentialSettings wrote (Extra is left empty: the
// plugin reads its own extra settings by name). A time that does not parse is an error
// naming the setting.
func CredentialsFrom(settings map[string]string) (Credentials, error) {
	c := Credentials{AccessToken: settings[SettingAccessToken], RefreshToken: settings[SettingRefreshToken], Subject: settings[SettingSubject]}
	for key, dst := range map[string]*time.Time{SettingExpiresAt: &c.ExpiresAt, SettingRefreshExpiresAt: &c.RefreshExpiresAt} {
		if v := settings[key]; v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return Credentials{}, Errorf(Permanent, "setting %q is not an RFC 3339 time: %q", key, v)
			}
			*dst = t
		}
	}
	return c, nil
}

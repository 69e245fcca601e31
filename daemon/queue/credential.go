package queue

import (
	"context"
	"fmt"
	"time"
)

// CredentialKind says how an account was connected.
type CredentialKind string

const (
	// CredentialOAuth: tokens the network issued after a person approved its consent page
	// (the OAuth 2.0 code flow); refreshed by the daemon before they expire.
	CredentialOAuth CredentialKind = "oauth"
	// CredentialPassword: an app password a person typed (Bluesky); it does not expire.
	CredentialPassword CredentialKind = "password"
)

// Credential is a connected account's credentials as the store keeps them: sealed by the
// daemon (AES-256-GCM under [daemon] secrets_key, the account's name as associated data),
// so the store only ever holds ciphertext, and what may be shown about them. Nothing in
// it but Ciphertext is secret (docs/operations.md, "Connecting accounts").
type Credential struct {
	Account string
	Kind    CredentialKind
	// Ciphertext and Nonce are the sealed settings (tokens, an app password).
	Ciphertext []byte
	Nonce      []byte
	// KeyID names the key that sealed them (a fingerprint of secrets_key, not the key), and
	// Version the sealing format, so that a changed key is told from damaged data.
	KeyID   string
	Version int
	// Subject is who the credentials act as ("@brand@social.example").
	Subject string
	// Refreshable is true when the sealed credentials hold a refresh token.
	Refreshable bool
	// ExpiresAt is when the access token stops working (zero: never); RefreshExpiresAt
	// when the refresh token does (zero: not known, or never).
	ExpiresAt        time.Time
	RefreshExpiresAt time.Time
	// IssuedAt is when the current access token was obtained (its lifetime starts there).
	IssuedAt    time.Time
	ConnectedAt time.Time
	ConnectedBy string
	// RefreshedAt is the last successful refresh. RefreshError is the last failed attempt's
	// error ("" when the last attempt worked), at RefreshErrorAt.
	RefreshedAt    time.Time
	RefreshError   string
	RefreshErrorAt time.Time
	// NeedsPerson is true once the network refused a refresh: only connecting the account
	// again helps.
	NeedsPerson bool
	// Revision counts the changes of the row: rotations and failures are recorded only if
	// it has not moved since the credentials were read, so a refresh that finishes after a
	// person connected the account again cannot overwrite the new tokens.
	Revision int64
}

// AccountActivity is what the accounts page shows of an account's publishing.
type AccountActivity struct {
	Account         string
	LastPublishedAt time.Time // zero: never
	LastError       string    // the last delivery that failed or came back unknown
	LastErrorAt     time.Time
}

// CredentialStore keeps connected accounts' sealed credentials.
type CredentialStore interface {
	// SaveCredential stores c for its account, replacing what was there (a person connected
	// it): ConnectedAt and IssuedAt become now, ConnectedBy is by, the refresh history is
	// cleared, and Revision moves on. It is written to the audit log with the subject.
	SaveCredential(ctx context.Context, by Actor, c *Credential) error
	// RotateCredential stores refreshed credentials (Ciphertext, Nonce, KeyID, Version,
	// Subject, Refreshable and the expiry times of c) if the stored Revision still equals
	// c.Revision, else Conflict. IssuedAt and RefreshedAt become now; the error is cleared.
	RotateCredential(ctx context.Context, c *Credential) error
	// RefreshFailed records a failed refresh of the credentials at revision (Conflict if the
	// row moved on); needsPerson marks them as needing a person (written to the audit log).
	RefreshFailed(ctx context.Context, account string, revision int64, msg string, needsPerson bool) error
	// Credential returns the account's credentials; NotFound when it is not connected.
	Credential(ctx context.Context, account string) (*Credential, error)
	// Credentials lists every connected account's, by account name.
	Credentials(ctx context.Context) ([]*Credential, error)
	// AccountActivity reads the named accounts' last publish and last delivery error.
	AccountActivity(ctx context.Context, accounts []string) ([]AccountActivity, error)
}

// Validate checks what the store requires of a credential.
func (c *Credential) Validate() error {
	switch {
	case c.Account == "":
		return Errorf(Invalid, "account", "credentials need the account's name")
	case c.Kind != CredentialOAuth && c.Kind != CredentialPassword:
		return Errorf(Invalid, "kind", "credential kind %q is unknown: use %q or %q", c.Kind, CredentialOAuth, CredentialPassword)
	case len(c.Ciphertext) == 0 || len(c.Nonce) == 0:
		return Errorf(Invalid, "ciphertext", "credentials are stored sealed: ciphertext and nonce are required")
	case c.KeyID == "" || c.Version < 1:
		return Errorf(Invalid, "key_id", "credentials need the id of the key that sealed them and the sealing version")
	}
	return nil
}

// Credential attention thresholds (docs/operations.md, "Connecting accounts").
const (
	// ExpiryWarning is how long before credentials stop working (and cannot be refreshed)
	// the account asks for a person.
	ExpiryWarning = 7 * 24 * time.Hour
	// RefreshMargin is the least time left at which a token is refreshed; a token is also
	// refreshed once less than a quarter of its lifetime is left, whichever comes first.
	RefreshMargin = 10 * time.Minute
)

// RefreshAt is when the daemon refreshes c: once less than a quarter of the access
// token's lifetime, or RefreshMargin, is left, whichever is earlier, but never before half
// of the lifetime has passed (a token that lasts five minutes is refreshed after two and a
// half, not at once and again). Zero when c is not refreshed (no expiry, no refresh token,
// or it needs a person).
func (c *Credential) RefreshAt() time.Time {
	if c.ExpiresAt.IsZero() || !c.Refreshable || c.NeedsPerson {
		return time.Time{}
	}
	margin := RefreshMargin
	if !c.IssuedAt.IsZero() && c.ExpiresAt.After(c.IssuedAt) {
		life := c.ExpiresAt.Sub(c.IssuedAt)
		margin = min(max(margin, life/4), life/2)
	}
	return c.ExpiresAt.Add(-margin)
}

// Ends is when the connection stops working unless a person connects the account again:
// the refresh token's expiry for credentials that are refreshed, the access token's
// otherwise. Zero: not known to end.
func (c *Credential) Ends() time.Time {
	if c.Refreshable && !c.NeedsPerson {
		return c.RefreshExpiresAt
	}
	return c.ExpiresAt
}

// Attention lists why the account needs a person now, each with what to do; dates are
// written in loc. Empty: nothing to do.
func (c *Credential) Attention(now time.Time, loc *time.Location) []string {
	date := func(t time.Time) string { return t.In(loc).Format("2 Jan 2006 15:04 MST") }
	var out []string
	if c.NeedsPerson {
		out = append(out, fmt.Sprintf("the network refused to refresh the token (%s): connect the account again", c.RefreshError))
	}
	expired := !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)
	end := c.Ends()
	switch {
	case expired && c.Refreshable && !c.NeedsPerson && (end.IsZero() || now.Before(end)):
		// Refreshing was late (the daemon was down, or the network failed): it is retried.
		out = append(out, fmt.Sprintf("the token expired on %s: posts are held until tact refreshes it", date(c.ExpiresAt)))
	case expired:
		out = append(out, fmt.Sprintf("the token expired on %s: posts are held; connect the account again", date(c.ExpiresAt)))
	case !end.IsZero() && !now.Before(end):
		out = append(out, fmt.Sprintf("the connection expired on %s: posts are held; connect the account again", date(end)))
	case !end.IsZero() && end.Sub(now) <= ExpiryWarning:
		out = append(out, fmt.Sprintf("the token expires on %s (within 7 days): connect the account again", date(end)))
	}
	return out
}

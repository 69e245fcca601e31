package host

import (
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// An account whose own process refuses its credentials can still be connected: the
// authorizer process runs without them. Connecting (SetCredentials) then starts the
// account at once, without waiting out the backoff of the refusal, with the new
// credentials merged over its settings.
func TestConnectWhileCredentialsAreRefused(t *testing.T) {
	acct, _ := outboxAccount(t, "brand", "testnet")
	acct.Credentials = map[string]string{sdk.SettingAccessToken: "refused"}
	m := newManager(t, Config{BackoffMin: time.Hour, BackoffMax: time.Hour}, acct)
	ctx := ctxT(t)
	// Two refusals: the second start waits an hour.
	for range 2 {
		if err := m.Start(ctx, "brand"); sdk.KindOf(err) != sdk.Auth {
			t.Fatalf("Start with refused credentials = %v, want auth", err)
		}
	}
	if err := m.Start(ctx, "brand"); err == nil || !strings.Contains(err.Error(), "waiting") {
		t.Fatalf("third Start = %v, want the backoff", err)
	}

	az, err := m.Authorizer("brand")
	if err != nil {
		t.Fatal(err)
	}
	u, err := az.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: "https://tact.example/oauth/callback", State: "st", CodeChallenge: "ch"})
	if err != nil || !strings.Contains(u, "state=st") || !strings.Contains(u, "code_challenge=ch") {
		t.Fatalf("AuthCodeURL = %q, %v", u, err)
	}
	cr, err := az.Exchange(ctx, sdk.ExchangeRequest{Code: "ann", CodeVerifier: "v", RedirectURI: "https://tact.example/oauth/callback"})
	if err != nil || cr.AccessToken != "token-ann" || cr.Subject != "@ann" {
		t.Fatalf("Exchange = %+v, %v", cr, err)
	}
	if _, err := az.Exchange(ctx, sdk.ExchangeRequest{Code: "refused"}); sdk.KindOf(err) != sdk.Auth {
		t.Fatalf("a refused code = %v, want auth", err)
	}

	if err := m.SetCredentials(ctx, "brand", sdk.CredentialSettings(cr)); err != nil {
		t.Fatal(err)
	}
	n, _ := m.Network("brand")
	d, err := n.Describe(ctx)
	if err != nil || d.Version != "0.0.1-test+@ann" {
		t.Fatalf("after SetCredentials Describe = %+v, %v; want the process configured as @ann", d, err)
	}
	if _, err := n.Publish(ctx, sdk.Post{Text: "hello"}, "k1"); err != nil {
		t.Fatalf("Publish after connecting: %v", err)
	}
	// The authorizer process is another process than the account's.
	if a, b := m.accounts["brand"].pid(), m.auth["brand"].pid(); a == 0 || b == 0 || a == b {
		t.Fatalf("account pid %d, authorizer pid %d: want two processes", a, b)
	}
}

// New credentials reach a running process in place: same process, new configuration, so
// publishes in flight are not cut. Credentials the process refuses are reported, and the
// process keeps serving with its previous ones.
func TestSetCredentialsReconfiguresInPlace(t *testing.T) {
	acct, _ := outboxAccount(t, "brand", "testnet")
	acct.Credentials = map[string]string{sdk.SettingAccessToken: "one", sdk.SettingSubject: "@one"}
	m := newManager(t, Config{}, acct)
	ctx := ctxT(t)
	if err := m.Start(ctx, "brand"); err != nil {
		t.Fatal(err)
	}
	pid := m.accounts["brand"].pid()
	if err := m.SetCredentials(ctx, "brand", map[string]string{sdk.SettingAccessToken: "two", sdk.SettingSubject: "@two"}); err != nil {
		t.Fatal(err)
	}
	n, _ := m.Network("brand")
	if d, err := n.Describe(ctx); err != nil || d.Version != "0.0.1-test+@two" {
		t.Fatalf("Describe = %+v, %v; want @two", d, err)
	}
	if got := m.accounts["brand"].pid(); got != pid {
		t.Fatalf("pid %d after SetCredentials, want the same process %d", got, pid)
	}
	err := m.SetCredentials(ctx, "brand", map[string]string{sdk.SettingAccessToken: "refused", sdk.SettingSubject: "@three"})
	if sdk.KindOf(err) != sdk.Auth || !strings.Contains(err.Error(), "keeps its previous") {
		t.Fatalf("refused credentials: %v", err)
	}
	if d, err := n.Describe(ctx); err != nil || d.Version != "0.0.1-test+@two" {
		t.Fatalf("after a refusal Describe = %+v, %v; want the previous configuration", d, err)
	}
	// Update with the same account and the credentials now held keeps the process.
	acct.Credentials = map[string]string{sdk.SettingAccessToken: "refused", sdk.SettingSubject: "@three"}
	if err := m.Update([]Account{acct}); err != nil {
		t.Fatal(err)
	}
	if got := m.accounts["brand"].pid(); got != pid {
		t.Fatalf("Update with unchanged credentials restarted the process (%d, was %d)", got, pid)
	}
}

// Check tries credentials on a process of their own and leaves the account alone.
func TestCheckCredentials(t *testing.T) {
	acct, _ := outboxAccount(t, "brand", "testnet")
	m := newManager(t, Config{}, acct)
	ctx := ctxT(t)
	if err := m.Check(ctx, "brand", map[string]string{sdk.SettingAccessToken: "refused"}); sdk.KindOf(err) != sdk.Auth {
		t.Fatalf("Check with refused credentials = %v, want auth", err)
	}
	if err := m.Check(ctx, "brand", map[string]string{sdk.SettingAccessToken: "fine"}); err != nil {
		t.Fatalf("Check with good credentials = %v", err)
	}
	if pid := m.accounts["brand"].pid(); pid != 0 {
		t.Fatalf("Check started the account's process (pid %d)", pid)
	}
}

// The authorizer process stops once unused, and starts again on the next call.
func TestAuthorizerStopsWhenIdle(t *testing.T) {
	acct, _ := outboxAccount(t, "brand", "testnet")
	m := newManager(t, Config{CallTimeout: time.Second, AuthorizerIdle: time.Millisecond}, acct)
	ctx := ctxT(t)
	az, _ := m.Authorizer("brand")
	if _, err := az.Refresh(ctx, sdk.Credentials{RefreshToken: "r", AccessToken: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := az.Refresh(ctx, sdk.Credentials{RefreshToken: "revoked"}); sdk.KindOf(err) != sdk.Auth {
		t.Fatalf("a revoked refresh token = %v, want auth", err)
	}
	waitFor(t, "the idle authorizer to stop", func() bool { return m.auth["brand"].pid() == 0 })
	if c, err := az.Refresh(ctx, sdk.Credentials{RefreshToken: "r", AccessToken: "a"}); err != nil || c.AccessToken != "a+1" {
		t.Fatalf("Refresh after the idle stop = %+v, %v", c, err)
	}
}

// A plugin without Authorizer answers the connect flow with a Permanent error.
func TestAuthorizerOfAPluginWithoutOAuth(t *testing.T) {
	acct, _ := outboxAccount(t, "plain", "outbox")
	m := newManager(t, Config{}, acct)
	az, err := m.Authorizer("plain")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := az.AuthCodeURL(ctxT(t), sdk.AuthRequest{State: "s"}); sdk.KindOf(err) != sdk.Permanent {
		t.Fatalf("AuthCodeURL on the outbox = %v, want permanent", err)
	}
	if _, err := m.Authorizer("nosuch"); err == nil {
		t.Fatal("Authorizer of an unknown account: no error")
	}
}

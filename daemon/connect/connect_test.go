package connect_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/connect"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/plugins/bluesky/blueskytest"
	"github.com/tact-hq/tact/plugins/host"
	"github.com/tact-hq/tact/plugins/mastodon/mastodontest"
	"github.com/tact-hq/tact/plugins/sdk"
)

// The tests run the real mastodon, bluesky and x plugins as processes (built once here), on
// a real SQLite file, against the plugins' fake servers on loopback; the daemon's side of
// time is a fake clock, and so is the fake Mastodon's.

var pluginDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tact-connect-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pluginDir = dir
	cmd := exec.Command("go", "build", "-o", dir+"/", "github.com/tact-hq/tact/cmd/tact-plugin-mastodon", "github.com/tact-hq/tact/cmd/tact-plugin-bluesky",
		"github.com/tact-hq/tact/cmd/tact-plugin-x")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the plugins:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type env struct {
	t       *testing.T
	ctx     context.Context
	clock   *clock.Fake
	store   *sqlite.DB
	dbPath  string
	masto   *mastodontest.Server
	sky     *blueskytest.Server
	plugins *host.Manager
	svc     *connect.Service
	admin   *queue.User
	key     []byte
}

type opts struct {
	noKey, noPublicURL bool
	tokenLifetime      time.Duration
}

func setup(t *testing.T, o opts) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, clock: clock.NewFake(time.Now().UTC().Truncate(time.Second))}
	e.dbPath = filepath.Join(t.TempDir(), "tact.db")
	var err error
	e.store, err = sqlite.Open(ctx, e.dbPath, sqlite.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	e.admin = &queue.User{Name: "adam", Role: queue.RoleAdmin}
	if err := e.store.CreateUser(ctx, queue.System("test"), e.admin, queue.HashToken(queue.NewToken())); err != nil {
		t.Fatal(err)
	}
	e.masto = mastodontest.New()
	t.Cleanup(e.masto.Close)
	e.masto.Now = e.clock.Now
	e.masto.TokenLifetime = o.tokenLifetime
	e.sky = blueskytest.New()
	t.Cleanup(e.sky.Close)
	e.plugins, err = host.New(host.Config{PluginDir: pluginDir}, []host.Account{
		{Name: "brand-mastodon", Plugin: "mastodon", Settings: map[string]string{"server": e.masto.URL, "state_dir": t.TempDir()}},
		{Name: "brand-bluesky", Plugin: "bluesky", Settings: map[string]string{"service": e.sky.URL}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.plugins.Close() })
	if !o.noKey {
		e.key = make([]byte, 32)
		rand.Read(e.key)
	}
	public := "https://tact.example"
	if o.noPublicURL {
		public = ""
	}
	e.svc, err = connect.New(connect.Options{Store: e.store, Plugins: e.plugins, Key: e.key, PublicURL: public, Clock: e.clock,
		Plugin: func(a string) string { return strings.TrimPrefix(a, "brand-") },
		Method: func(_ context.Context, a string) (connect.Method, error) {
			switch a {
			case "brand-mastodon":
				return connect.OAuth, nil
			case "brand-bluesky":
				return connect.Password, nil
			}
			return "", queue.Errorf(queue.NotFound, "account", "no account %q", a)
		}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// approve is the person approving on the fake's consent page: the answer the browser
// brings back to the callback.
func (e *env) approve(started connect.Started) connect.Answer {
	e.t.Helper()
	back, err := e.masto.Approve(started.AuthURL)
	if err != nil {
		e.t.Fatal(err)
	}
	u, _ := url.Parse(back)
	if !strings.HasPrefix(back, "https://tact.example/oauth/callback?") {
		e.t.Fatalf("the consent page sent the browser to %s, not the daemon's callback", back)
	}
	return connect.Answer{State: u.Query().Get("state"), Code: u.Query().Get("code")}
}

func (e *env) connectMastodon() connect.Connected {
	e.t.Helper()
	started, err := e.svc.Start(e.ctx, e.admin, "brand-mastodon")
	if err != nil {
		e.t.Fatal(err)
	}
	got, err := e.svc.Finish(e.ctx, e.approve(started))
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// publish sends a post through the account's own plugin process.
func (e *env) publish(account, text string) error {
	n, err := e.plugins.Network(account)
	if err != nil {
		return err
	}
	_, err = n.Publish(e.ctx, sdk.Post{Text: text}, text)
	return err
}

// fileHas reports whether any of the secrets is in the database's files (the main file
// and its write-ahead log), in any of the forms a careless store could keep it.
func (e *env) fileHas(secrets ...string) string {
	e.t.Helper()
	var files []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(e.dbPath + suffix)
		if err != nil && !os.IsNotExist(err) {
			e.t.Fatal(err)
		}
		files = append(files, b...)
	}
	for _, s := range secrets {
		if s != "" && bytes.Contains(files, []byte(s)) {
			return s
		}
	}
	return ""
}

func wantKind(t *testing.T, err error, k queue.Kind, parts ...string) {
	t.Helper()
	if queue.ErrorKind(err) != k {
		t.Fatalf("error %v is of kind %q, want %q", err, queue.ErrorKind(err), k)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q lacks %q", err, p)
		}
	}
}

// The flow end to end: the consent page, the way back, tokens stored sealed (the database
// files hold no token in clear), the account's process configured with them, and the
// person who connected it in the audit log.
func TestConnectMastodon(t *testing.T) {
	e := setup(t, opts{})
	if err := e.publish("brand-mastodon", "before"); sdk.KindOf(err) != sdk.Auth || !strings.Contains(err.Error(), "not connected") {
		t.Fatalf("publishing before connecting: %v, want auth 'not connected'", err)
	}
	started, err := e.svc.Start(e.ctx, e.admin, "brand-mastodon")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(started.AuthURL)
	q := u.Query()
	if !strings.HasPrefix(started.AuthURL, e.masto.URL+"/oauth/authorize?") || q.Get("state") != started.State ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("redirect_uri") != "https://tact.example/oauth/callback" {
		t.Fatalf("consent page %s", started.AuthURL)
	}
	if !started.ExpiresAt.Equal(e.clock.Now().Add(10 * time.Minute)) {
		t.Fatalf("expires at %s", started.ExpiresAt)
	}
	got, err := e.svc.Finish(e.ctx, e.approve(started))
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(e.masto.URL, "http://")
	if got.Subject != "@tact@"+host || got.Warning != "" {
		t.Fatalf("connected %+v", got)
	}
	c, err := e.store.Credential(e.ctx, "brand-mastodon")
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != got.Subject || c.ConnectedBy != "adam" || c.Kind != queue.CredentialOAuth || c.KeyID != connect.KeyID(e.key) {
		t.Fatalf("stored %+v", c)
	}
	if err := e.publish("brand-mastodon", "Connected from tact"); err != nil {
		t.Fatalf("publishing after connecting: %v", err)
	}
	if sts := e.masto.Statuses(); len(sts) != 1 || sts[0].Text != "Connected from tact" {
		t.Fatalf("statuses %+v", sts)
	}
	tokens := e.masto.IssuedTokens()
	if len(tokens) != 1 {
		t.Fatalf("issued %v", tokens)
	}
	if leak := e.fileHas(tokens[0]); leak != "" {
		t.Fatal("the database file holds the access token in clear")
	}
	if bytes.Contains(c.Ciphertext, []byte(tokens[0])) {
		t.Fatal("the ciphertext holds the token")
	}
	es, _ := e.store.AuditLog(e.ctx, time.Time{}, 10)
	if len(es) == 0 || es[0].Action != "account.connect" || es[0].Actor.Name != "adam" || !strings.Contains(es[0].Detail, got.Subject) {
		t.Fatalf("audit %+v", es)
	}

	// Restarted, the daemon opens the stored credentials for the account's process.
	creds, errs := connect.Load(e.ctx, e.store, e.key)
	if len(errs) != 0 || creds["brand-mastodon"][sdk.SettingAccessToken] != tokens[0] {
		t.Fatalf("Load = %d accounts, %v", len(creds), errs)
	}
	other := make([]byte, 32)
	rand.Read(other)
	if _, errs := connect.Load(e.ctx, e.store, other); len(errs) != 1 || !strings.Contains(errs[0].Error(), "another secrets_key") || strings.Contains(errs[0].Error(), tokens[0]) {
		t.Fatalf("Load with another key: %v", errs)
	}
	if _, errs := connect.Load(e.ctx, e.store, nil); len(errs) != 1 || !strings.Contains(errs[0].Error(), "secrets_key is not set") {
		t.Fatalf("Load without a key: %v", errs)
	}
}

// A state is the callback's only credential: a wrong one, one used already, and one more
// than ten minutes old are refused the same way, and change nothing. The code is bound to
// its flow's PKCE verifier: a code brought back with another flow's state is refused by
// the server.
func TestCallbackRefusals(t *testing.T) {
	e := setup(t, opts{})
	started, err := e.svc.Start(e.ctx, e.admin, "brand-mastodon")
	if err != nil {
		t.Fatal(err)
	}
	answer := e.approve(started)
	_, err = e.svc.Finish(e.ctx, connect.Answer{State: "forged-" + answer.State, Code: answer.Code})
	wantKind(t, err, queue.Invalid, "unknown, was already completed, or is more than 10m0s old", "nothing was changed")
	_, err = e.svc.Finish(e.ctx, connect.Answer{Code: answer.Code})
	wantKind(t, err, queue.Invalid, "unknown")
	if _, err := e.svc.Finish(e.ctx, answer); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Finish(e.ctx, answer)
	wantKind(t, err, queue.Invalid, "already completed")

	// Expired.
	late, _ := e.svc.Start(e.ctx, e.admin, "brand-mastodon")
	lateAnswer := e.approve(late)
	e.clock.Advance(10*time.Minute + time.Second)
	_, err = e.svc.Finish(e.ctx, lateAnswer)
	wantKind(t, err, queue.Invalid, "more than 10m0s old")

	// PKCE: flow A's code with flow B's state (B's verifier).
	a, _ := e.svc.Start(e.ctx, e.admin, "brand-mastodon")
	b, _ := e.svc.Start(e.ctx, e.admin, "brand-mastodon")
	codeA := e.approve(a).Code
	_, err = e.svc.Finish(e.ctx, connect.Answer{State: b.State, Code: codeA})
	wantKind(t, err, queue.Invalid, "did not give tokens", "invalid_grant")

	// The person denied.
	d, _ := e.svc.Start(e.ctx, e.admin, "brand-mastodon")
	_, err = e.svc.Finish(e.ctx, connect.Answer{State: d.State, Error: "access_denied", Description: "The resource owner denied the request."})
	wantKind(t, err, queue.Invalid, "did not authorize", "access_denied")

	// Started by an admin who is no longer one.
	f, _ := e.svc.Start(e.ctx, e.admin, "brand-mastodon")
	fa := e.approve(f)
	if err := e.store.CreateUser(e.ctx, queue.System("test"), &queue.User{Name: "root", Role: queue.RoleAdmin}, queue.HashToken(queue.NewToken())); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SetUserRole(e.ctx, queue.System("test"), "adam", queue.RoleViewer); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Finish(e.ctx, fa)
	wantKind(t, err, queue.Forbidden, "no longer an admin")

	if n := len(e.masto.IssuedTokens()); n != 1 {
		t.Fatalf("%d tokens issued, want only the one completed flow's", n)
	}
}

// Without [daemon] secrets_key or public_url nothing is connected, and the refusal says
// what to set.
func TestConnectNeedsKeyAndPublicURL(t *testing.T) {
	e := setup(t, opts{noKey: true})
	_, err := e.svc.Start(e.ctx, e.admin, "brand-mastodon")
	wantKind(t, err, queue.Conflict, "secrets_key", "head -c32 /dev/urandom | base64 > /etc/tact/secrets.key")
	_, err = e.svc.ConnectPassword(e.ctx, e.admin, "brand-bluesky", map[string]string{"identifier": "alice.test", "app_password": "app-pass"})
	wantKind(t, err, queue.Conflict, "secrets_key")
	e = setup(t, opts{noPublicURL: true})
	_, err = e.svc.Start(e.ctx, e.admin, "brand-mastodon")
	wantKind(t, err, queue.Conflict, "public_url", "/oauth/callback")
	// An app password needs no public_url.
	if _, err := e.svc.ConnectPassword(e.ctx, e.admin, "brand-bluesky", map[string]string{"identifier": "alice.test", "app_password": "app-pass"}); err != nil {
		t.Fatalf("an app password without public_url: %v", err)
	}
	if n := e.masto.RegisteredApps(); n != 0 {
		t.Fatalf("%d apps registered on the server", n)
	}
}

// Tokens are refreshed before they expire (a quarter of their lifetime before, by the fake
// clock), the rotated ones stored sealed and handed to the account's process, which keeps
// publishing after the first token expired.
func TestRefreshBeforeExpiry(t *testing.T) {
	e := setup(t, opts{tokenLifetime: 2 * time.Hour})
	connectedAt := e.clock.Now()
	e.connectMastodon()
	first, _ := e.store.Credential(e.ctx, "brand-mastodon")
	if !first.Refreshable || !first.ExpiresAt.Equal(connectedAt.Add(2*time.Hour)) {
		t.Fatalf("stored %+v", first)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	refreshAt := connectedAt.Add(90 * time.Minute)
	if !e.clock.WaitForTimer(ctx.Done(), func(at time.Time) bool { return at.Equal(refreshAt) }) {
		t.Fatal("the refresh loop did not wait for the refresh time")
	}
	e.clock.Set(refreshAt)
	waitFor(t, "the refresh", func() bool {
		c, err := e.store.Credential(e.ctx, "brand-mastodon")
		return err == nil && !c.RefreshedAt.IsZero()
	})
	c, _ := e.store.Credential(e.ctx, "brand-mastodon")
	if bytes.Equal(c.Ciphertext, first.Ciphertext) || !c.ExpiresAt.Equal(refreshAt.Add(2*time.Hour)) || c.Revision != first.Revision+1 || c.Subject != first.Subject {
		t.Fatalf("after the refresh %+v", c)
	}
	tokens := e.masto.IssuedTokens()
	if len(tokens) != 2 {
		t.Fatalf("issued %d tokens", len(tokens))
	}
	if leak := e.fileHas(append(tokens, e.masto.RefreshTokens()...)...); leak != "" {
		t.Fatal("the database files hold a token in clear after the refresh")
	}
	// Past the first token's expiry the process publishes with the second.
	e.clock.Set(connectedAt.Add(2*time.Hour + time.Minute))
	if err := e.publish("brand-mastodon", "still publishing"); err != nil {
		t.Fatalf("publishing after the first token expired: %v", err)
	}
	// The next refresh is planned a quarter of the new lifetime before it ends.
	next := refreshAt.Add(90 * time.Minute)
	if !e.clock.WaitForTimer(ctx.Done(), func(at time.Time) bool { return at.Equal(next) }) {
		t.Fatal("the next refresh is not planned")
	}
}

// A refresh the network refuses marks the account as needing a person, and is not tried
// again; connecting it again clears that.
func TestRefusedRefreshNeedsAPerson(t *testing.T) {
	e := setup(t, opts{tokenLifetime: 2 * time.Hour})
	e.connectMastodon()
	e.masto.RevokeRefreshTokens()
	e.clock.Advance(95 * time.Minute)
	next := e.svc.RefreshDue(e.ctx)
	c, _ := e.store.Credential(e.ctx, "brand-mastodon")
	if !c.NeedsPerson || !strings.Contains(c.RefreshError, "invalid_grant") {
		t.Fatalf("after a refused refresh %+v", c)
	}
	if !next.IsZero() {
		t.Fatalf("a refused refresh is planned again at %s", next)
	}
	reasons := strings.Join(c.Attention(e.clock.Now(), time.UTC), "; ")
	if !strings.Contains(reasons, "refused to refresh the token") || !strings.Contains(reasons, "connect the account again") {
		t.Fatalf("attention %q", reasons)
	}
	e.clock.Advance(30 * time.Minute)
	if r := strings.Join(c.Attention(e.clock.Now(), time.UTC), "; "); !strings.Contains(r, "the token expired on") || !strings.Contains(r, "posts are held") {
		t.Fatalf("attention once expired %q", r)
	}
	es, _ := e.store.AuditLog(e.ctx, time.Time{}, 10)
	if es[0].Action != "account.needs_connect" {
		t.Fatalf("audit %+v", es[0])
	}
	e.connectMastodon()
	if c, _ := e.store.Credential(e.ctx, "brand-mastodon"); c.NeedsPerson || c.RefreshError != "" {
		t.Fatalf("after connecting again %+v", c)
	}
}

// A retryable failure (the server is down) is recorded and tried again two minutes later.
func TestRefreshRetriesAfterAFailure(t *testing.T) {
	e := setup(t, opts{tokenLifetime: 2 * time.Hour})
	e.connectMastodon()
	e.masto.Fail(mastodontest.Fault{Method: "POST", Path: "/oauth/token", Status: 503, Body: `{"error":"Service Unavailable"}`})
	e.clock.Advance(95 * time.Minute)
	next := e.svc.RefreshDue(e.ctx)
	c, _ := e.store.Credential(e.ctx, "brand-mastodon")
	if c.NeedsPerson || !strings.Contains(c.RefreshError, "503") || !next.Equal(e.clock.Now().Add(connect.RefreshRetry)) {
		t.Fatalf("after a 503: next %s, %+v", next, c)
	}
	e.clock.Advance(connect.RefreshRetry)
	e.svc.RefreshDue(e.ctx)
	if c, _ := e.store.Credential(e.ctx, "brand-mastodon"); c.RefreshError != "" || c.RefreshedAt.IsZero() {
		t.Fatalf("the retry did not refresh: %+v", c)
	}
}

// Bluesky's app password: tried on a process of its own, refused without a trace when
// wrong, kept sealed when right, and handed to the account's process.
func TestConnectAppPassword(t *testing.T) {
	e := setup(t, opts{})
	_, err := e.svc.ConnectPassword(e.ctx, e.admin, "brand-bluesky", map[string]string{"identifier": "alice.test", "app_password": "wrong-pass"})
	wantKind(t, err, queue.Invalid, "did not accept these credentials")
	if _, err := e.store.Credential(e.ctx, "brand-bluesky"); queue.ErrorKind(err) != queue.NotFound {
		t.Fatalf("a refused password was stored: %v", err)
	}
	_, err = e.svc.ConnectPassword(e.ctx, e.admin, "brand-bluesky", map[string]string{"identifier": "alice.test"})
	wantKind(t, err, queue.Invalid, "App password (app_password) is empty")
	_, err = e.svc.ConnectPassword(e.ctx, e.admin, "brand-bluesky", map[string]string{"identifier": "alice.test", "app_password": "x", "server": "y"})
	wantKind(t, err, queue.Invalid, `"server" is not one of the settings`)
	_, err = e.svc.ConnectPassword(e.ctx, e.admin, "brand-mastodon", map[string]string{"identifier": "x"})
	wantKind(t, err, queue.Conflict, "consent page")
	_, err = e.svc.Start(e.ctx, e.admin, "brand-bluesky")
	wantKind(t, err, queue.Conflict, "app password")

	got, err := e.svc.ConnectPassword(e.ctx, e.admin, "brand-bluesky", map[string]string{"identifier": "alice.test", "app_password": e.sky.AppPassword})
	if err != nil || got.Subject != "alice.test" || got.Warning != "" {
		t.Fatalf("ConnectPassword = %+v, %v", got, err)
	}
	c, _ := e.store.Credential(e.ctx, "brand-bluesky")
	if c.Kind != queue.CredentialPassword || c.Subject != "alice.test" || !c.ExpiresAt.IsZero() {
		t.Fatalf("stored %+v", c)
	}
	if leak := e.fileHas(e.sky.AppPassword); leak != "" {
		t.Fatal("the database file holds the app password in clear")
	}
	if err := e.publish("brand-bluesky", "hello from tact"); err != nil {
		t.Fatalf("publishing after connecting: %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// A network whose tokens last a second is not asked again in a loop: after a refresh the
// next waits RefreshRetry at least.
func TestShortTokensAreNotRefreshedInALoop(t *testing.T) {
	e := setup(t, opts{tokenLifetime: time.Second})
	e.connectMastodon()
	e.clock.Advance(time.Second)
	next := e.svc.RefreshDue(e.ctx)
	c, _ := e.store.Credential(e.ctx, "brand-mastodon")
	if c.RefreshedAt.IsZero() {
		t.Fatalf("not refreshed: %+v", c)
	}
	if want := e.clock.Now().Add(connect.RefreshRetry); next.Before(want) {
		t.Fatalf("the next refresh is planned at %s, before %s", next, want)
	}
	if n := len(e.masto.IssuedTokens()); n != 2 {
		t.Fatalf("%d tokens issued, want the connection's and one refresh", n)
	}
}

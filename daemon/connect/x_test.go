package connect_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/connect"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/plugins/host"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/x/xtest"
)

// The same flow against X's fake (plugins/x/xtest: X's consent page, S256 check, 30-second
// single-use codes, two-hour tokens, rotating refresh tokens) through the real x plugin
// process: connect, refresh before the two hours are up by the fake clock, keep
// publishing past the first token's end, and a revoked refresh token needing a person.
func TestConnectX(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	dbPath := filepath.Join(t.TempDir(), "tact.db")
	store, err := sqlite.Open(ctx, dbPath, sqlite.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	admin := &queue.User{Name: "adam", Role: queue.RoleAdmin}
	if err := store.CreateUser(ctx, queue.System("test"), admin, queue.HashToken(queue.NewToken())); err != nil {
		t.Fatal(err)
	}
	srv := xtest.New()
	defer srv.Close()
	srv.Now = clk.Now
	settings := srv.AppSettings()
	settings["state_dir"] = t.TempDir()
	plugins, err := host.New(host.Config{PluginDir: pluginDir}, []host.Account{{Name: "brand-x", Plugin: "x", Settings: settings}})
	if err != nil {
		t.Fatal(err)
	}
	defer plugins.Close()
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := connect.New(connect.Options{Store: store, Plugins: plugins, Key: key, PublicURL: "https://tact.example", Clock: clk,
		Plugin: func(string) string { return "x" },
		Method: func(context.Context, string) (connect.Method, error) { return connect.OAuth, nil }})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(text string) error {
		n, err := plugins.Network("brand-x")
		if err != nil {
			return err
		}
		_, err = n.Publish(ctx, sdk.Post{Text: text}, text)
		return err
	}

	connectedAt := clk.Now()
	started, err := svc.Start(ctx, admin, "brand-x")
	if err != nil {
		t.Fatal(err)
	}
	back, err := srv.Approve(started.AuthURL)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(back)
	if !strings.HasPrefix(back, "https://tact.example/oauth/callback?") {
		t.Fatalf("X sends the browser to %s", back)
	}
	got, err := svc.Finish(ctx, connect.Answer{State: u.Query().Get("state"), Code: u.Query().Get("code")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Subject, srv.Username) || got.Warning != "" || !got.ExpiresAt.Equal(connectedAt.Add(2*time.Hour)) {
		t.Fatalf("connected %+v", got)
	}
	if err := publish("Connected to X from tact"); err != nil {
		t.Fatalf("publishing after connecting: %v", err)
	}
	creds, _ := connect.Load(ctx, store, key)
	first := creds["brand-x"]
	if first[sdk.SettingRefreshToken] == "" {
		t.Fatal("no refresh token was kept")
	}
	e := &env{t: t, dbPath: dbPath}
	if leak := e.fileHas(first[sdk.SettingAccessToken], first[sdk.SettingRefreshToken], srv.ClientSecret); leak != "" {
		t.Fatal("the database files hold an X token in clear")
	}

	// The refresh loop: at 1h30 (a quarter of two hours before the end).
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx) }()
	defer func() { stop(); <-done }()
	refreshAt := connectedAt.Add(90 * time.Minute)
	if !clk.WaitForTimer(runCtx.Done(), func(at time.Time) bool { return at.Equal(refreshAt) }) {
		t.Fatal("the refresh loop does not wait for 1h30")
	}
	clk.Set(refreshAt)
	waitFor(t, "the refresh", func() bool {
		c, err := store.Credential(ctx, "brand-x")
		return err == nil && !c.RefreshedAt.IsZero()
	})
	creds, _ = connect.Load(ctx, store, key)
	second := creds["brand-x"]
	if second[sdk.SettingAccessToken] == first[sdk.SettingAccessToken] || second[sdk.SettingRefreshToken] == first[sdk.SettingRefreshToken] {
		t.Fatal("the refresh did not rotate the tokens")
	}
	clk.Set(connectedAt.Add(2*time.Hour + time.Minute))
	if err := publish("Still on X after two hours"); err != nil {
		t.Fatalf("publishing after the first token expired: %v", err)
	}

	// The person removes the app on X: the next refresh is refused. (The plugin process
	// dates its tokens by the wall clock, not the test's: wait for the loop to be idle, then
	// revoke the refresh token it holds now.)
	now := clk.Now()
	if !clk.WaitForTimer(runCtx.Done(), func(at time.Time) bool { return at.After(now) }) {
		t.Fatal("the refresh loop is not waiting")
	}
	creds, _ = connect.Load(ctx, store, key)
	srv.Revoke(creds["brand-x"][sdk.SettingRefreshToken])
	clk.Set(connectedAt.Add(5 * time.Hour))
	waitFor(t, "the refused refresh to be recorded", func() bool {
		c, err := store.Credential(ctx, "brand-x")
		return err == nil && c.NeedsPerson
	})
	c, _ := store.Credential(ctx, "brand-x")
	if r := strings.Join(c.Attention(clk.Now(), time.UTC), "; "); !strings.Contains(r, "refused to refresh") {
		t.Fatalf("attention %q", r)
	}
}

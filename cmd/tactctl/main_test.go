package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/daemon/watch"
	"github.com/tact-hq/tact/plugins/sdk"
)

// accountList is the configured accounts, as the daemon lists them from tact.toml.
type accountList []api.AccountInfo

func (l accountList) Accounts(context.Context) ([]api.AccountInfo, error) { return l, nil }

// runeLimit stands in for the plugins' Validate: a rune count against a limit.
type runeLimit int

func (n runeLimit) Validate(_ context.Context, accounts []string, p sdk.Post) ([]string, error) {
	var out []string
	if len([]rune(p.Text)) > int(n) {
		for _, a := range accounts {
			out = append(out, fmt.Sprintf("%s: text: %d characters, the limit is %d", a, len([]rune(p.Text)), n))
		}
	}
	return out, nil
}

// daemonAPI is the real API on a real SQLite store with the real watcher and default rules.
type daemonAPI struct {
	t     *testing.T
	url   string
	admin string
}

func newDaemonAPI(t *testing.T, opts ...sqlite.Option) *daemonAPI {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tact.db"), append([]sqlite.Option{sqlite.WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	quiet := slog.New(slog.DiscardHandler)
	rs, err := watch.NewRules(ctx, []string{filepath.Join("..", "..", "rules", "default", "*.toml")}, watch.RulesOptions{Store: db, Now: clk.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w, err := watch.New(watch.Options{Store: db, Rules: rs, Logger: quiet, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Options{Store: db, Logger: quiet, Validator: runeLimit(80),
		Accounts: accountList{{Name: "brand-mastodon", Plugin: "mastodon", Healthy: true}, {Name: "brand-bsky", Plugin: "bluesky", Healthy: true}},
		Rules:    rs, Watch: w, Warnings: w, Now: clk.Now, Version: "test"})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	admin := queue.NewToken()
	if err := db.CreateUser(ctx, queue.System("test"), &queue.User{Name: "root", Role: queue.RoleAdmin}, queue.HashToken(admin)); err != nil {
		t.Fatal(err)
	}
	return &daemonAPI{t: t, url: srv.URL, admin: admin}
}

// tactctl runs the command in-process as the admin.
func (d *daemonAPI) tactctl(args ...string) (int, string, string) {
	return d.as(d.admin, args...)
}

func (d *daemonAPI) as(token string, args ...string) (int, string, string) {
	d.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--server", d.url, "--token", token}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// ok runs a command that must succeed and returns its output.
func (d *daemonAPI) ok(args ...string) string {
	d.t.Helper()
	code, out, errs := d.tactctl(args...)
	if code != 0 {
		d.t.Fatalf("tactctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// fails runs a command that must exit with code and returns its stderr.
func (d *daemonAPI) fails(code int, args ...string) string {
	d.t.Helper()
	got, out, errs := d.tactctl(args...)
	if got != code {
		d.t.Fatalf("tactctl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), got, code, out, errs)
	}
	return errs
}

func contains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q:\n%s", what, sub, s)
		}
	}
}

// row finds the table row whose first column is first and returns its columns (split on
// runs of 2+ spaces, as tabwriter pads them).
func row(t *testing.T, table, first string) []string {
	t.Helper()
	sep := regexp.MustCompile(`\s{2,}`)
	for _, line := range strings.Split(table, "\n") {
		cols := sep.Split(strings.TrimSpace(line), -1)
		if len(cols) > 0 && cols[0] == first {
			return cols
		}
	}
	t.Fatalf("no row %q in:\n%s", first, table)
	return nil
}

func TestCampaignPostQueueApprove(t *testing.T) {
	d := newDaemonAPI(t)
	out := d.ok("campaign", "create", "spring", "--account", "brand-mastodon,brand-bsky", "--topic", "promotion", "--timezone", "Europe/Paris")
	contains(t, "campaign create", out, "created campaign spring", "Europe/Paris")
	out = d.ok("campaign", "list")
	if cols := row(t, out, "spring"); cols[1] != "active" || cols[2] != "required" || cols[3] != "brand-mastodon,brand-bsky" {
		t.Errorf("campaign row: %q", cols)
	}
	// Times are read and shown in the campaign's zone.
	out = d.ok("post", "create", "--campaign", "spring", "--at", "2026-05-02 09:00", "--text", "Spring fares are here", "--account", "brand-bsky")
	contains(t, "post create", out, "created post 1 in spring, due 2026-05-02 09:00 CEST, pending")
	d.ok("post", "create", "--campaign", "spring", "--at", "+5h", "--text", "Second post")
	out = d.ok("queue")
	cols := row(t, out, "1")
	if cols[1] != "2026-05-02 09:00 CEST" || cols[2] != "pending" || cols[3] != "spring" || cols[4] != "brand-bsky" || cols[5] != "Spring fares are here" {
		t.Errorf("queue row: %q", cols)
	}
	contains(t, "queue header", out, "ID", "DUE", "STATE")

	// --json prints the API's JSON.
	out = d.ok("queue", "--json", "--state", "pending")
	var page struct {
		Items []struct {
			ID    int64  `json:"id"`
			State string `json:"state"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Items) != 2 {
		t.Fatalf("queue --json: %v\n%s", err, out)
	}

	out = d.ok("approve", "1", "2")
	contains(t, "approve", out, "post 1: approved", "post 2: approved")
	// Flags may follow the ids.
	out = d.ok("reject", "2", "--reason", "off brand")
	contains(t, "reject", out, "post 2: rejected")
	out = d.ok("queue", "--state", "rejected")
	contains(t, "rejected queue", out, "reason: off brand")
	out = d.ok("hold", "1")
	contains(t, "hold", out, "post 1: held")
	out = d.ok("release", "1")
	contains(t, "release", out, "post 1: pending")

	// A second approve of an approved post is a conflict: message, current state, exit 1.
	d.ok("approve", "1")
	errs := d.fails(1, "approve", "1")
	contains(t, "double approve", errs, "post 1:", "approved", "1 of 1 posts could not be changed")

	out = d.ok("audit", "--since", "1h")
	contains(t, "audit", out, "WHEN", "user:root", "post.approve", "post.reject")
	out = d.ok("status")
	contains(t, "status", out, "tactd test", "posts:", "1 approved", "1 rejected", "campaigns:  1 active")
}

func TestRejectNeedsAReasonAndFlagsAreChecked(t *testing.T) {
	d := newDaemonAPI(t)
	errs := d.fails(2, "reject", "1")
	contains(t, "reject without reason", errs, "--reason is required", "usage: tactctl reject ID... --reason TEXT")
	errs = d.fails(2, "queue", "--colour", "red")
	contains(t, "unknown flag", errs, "flag provided but not defined: -colour", "usage: tactctl queue")
	errs = d.fails(2, "approve", "twelve")
	contains(t, "bad id", errs, `"twelve" is not a post ID`)
	errs = d.fails(2, "campaign", "pause", "spring")
	contains(t, "pause without reason", errs, "--reason is required")
	errs = d.fails(2, "frobnicate")
	contains(t, "unknown command", errs, `unknown command "frobnicate"`)
	errs = d.fails(2, "user", "add", "ana", "--role", "root")
	contains(t, "bad role", errs, "--role must be viewer, marketer or admin")
	// Server-side validation: the API's message and field, exit 1.
	d.ok("campaign", "create", "spring", "--account", "brand-bsky", "--topic", "x")
	errs = d.fails(1, "post", "create", "--campaign", "spring", "--at", "2026-04-30 10:00", "--text", "late")
	contains(t, "past time", errs, "is in the past", "pick a later time")
	errs = d.fails(1, "post", "create", "--campaign", "autumn", "--at", "+1h", "--text", "x")
	contains(t, "unknown campaign", errs, `unknown campaign "autumn"`)
	errs = d.fails(1, "campaign", "create", "x", "--account", "brand-nope")
	contains(t, "unknown account", errs, `unknown account "brand-nope"`)
}

func TestImportReportsEveryBadLine(t *testing.T) {
	d := newDaemonAPI(t)
	d.ok("campaign", "create", "spring", "--account", "brand-mastodon", "--topic", "promotion")
	dir := t.TempDir()
	bad := filepath.Join(dir, "posts.csv")
	if err := os.WriteFile(bad, []byte("campaign,at,text,account\n"+
		"spring,2026-05-03 10:00,Fine\n"+
		"autumn,2026-05-03 10:00,No such campaign\n"+
		"spring,yesterday,Bad time\n"+
		"spring,2026-05-03 12:00,Wrong account,brand-bsky\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := d.tactctl("post", "import", bad)
	if code != 1 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	contains(t, "import errors", errs, bad+":3: campaign:", bad+":4: at:", bad+":5: accounts:", "nothing was imported", "fix the lines above")
	if strings.Contains(errs, ":2:") {
		t.Errorf("a good line reported: %s", errs)
	}
	contains(t, "queue after a bad import", d.ok("queue"), "no posts")

	good := filepath.Join(dir, "good.csv")
	if err := os.WriteFile(good, []byte("spring,2026-05-03 10:00,One\nspring,2026-05-03 11:00,\"Two, with a comma\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	contains(t, "import", d.ok("post", "import", good), "imported 2 posts")
	out = d.ok("queue")
	row(t, out, "1")
	row(t, out, "2")
}

func TestUserAddPrintsATokenThatWorks(t *testing.T) {
	d := newDaemonAPI(t)
	out := d.ok("user", "add", "ana", "--role", "viewer")
	tok := regexp.MustCompile(`tact_[A-Za-z0-9_-]{43}`).FindString(out)
	if tok == "" {
		t.Fatalf("no token printed:\n%s", out)
	}
	contains(t, "user add", out, "shown this once")
	if code, out, errs := d.as(tok, "status"); code != 0 || !strings.Contains(out, "posts:") {
		t.Fatalf("the new token does not work: %d %s %s", code, out, errs)
	}
	code, _, errs := d.as(tok, "pause", "--all", "--reason", "crisis")
	if code != 1 {
		t.Fatalf("a viewer paused everything: exit %d", code)
	}
	contains(t, "viewer pause-all", errs, "needs the admin role", "ask an admin")
	out = d.ok("user", "list")
	if cols := row(t, out, "2"); cols[1] != "ana" || cols[2] != "viewer" {
		t.Errorf("user row %q", cols)
	}
	if strings.Contains(d.ok("user", "list", "--json"), tok) {
		t.Error("user list shows a token")
	}
	d.ok("user", "delete", "ana")
	code, _, errs = d.as(tok, "status")
	if code != 1 {
		t.Fatalf("a deleted user's token still works")
	}
	contains(t, "deleted token", errs, "token is not valid", "TACT_TOKEN")
}

func TestPauseIncidentsAndJSON(t *testing.T) {
	d := newDaemonAPI(t)
	d.ok("campaign", "create", "spring", "--account", "brand-bsky", "--topic", "travel")
	d.ok("campaign", "create", "autumn", "--account", "brand-bsky", "--topic", "promotion")
	contains(t, "pause all", d.ok("pause", "--all", "--reason", "crisis drill"), "paused 2 campaigns")
	out := d.ok("campaign", "list")
	if cols := row(t, out, "spring"); cols[1] != "paused" || !strings.Contains(cols[len(cols)-1], "crisis drill") {
		t.Errorf("paused row %q", cols)
	}
	contains(t, "resume all", d.ok("resume", "--all"), "resumed 2 campaigns")
	contains(t, "pause one", d.ok("campaign", "pause", "spring", "--reason", "rebrand"), "campaign spring is paused")
	contains(t, "resume one", d.ok("campaign", "resume", "spring"), "campaign spring is active")

	// Declaring an incident for the air rule pauses the travel campaign.
	out = d.ok("incident", "declare", "--rule", "air-disaster", "--note", "crash reported by staff")
	contains(t, "declare", out, "declared incident 1", "air-disaster")
	out = d.ok("incident", "list")
	if cols := row(t, out, "1"); cols[1] != "open" || cols[2] != "air-disaster" {
		t.Errorf("incident row %q", cols)
	}
	contains(t, "status with an incident", d.ok("status"), "1 open", "paused spring")
	errs := d.fails(2, "incident", "resolve", "1")
	contains(t, "resolve without note", errs, "--note is required")
	contains(t, "resolve", d.ok("incident", "resolve", "1", "--note", "false alarm"), "resolved incident 1")

	// --json anywhere prints JSON the API gave.
	var camp map[string]any
	if err := json.Unmarshal([]byte(d.ok("--json", "campaign", "list")), &camp); err != nil || camp["items"] == nil {
		t.Errorf("campaign list --json: %v", err)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(d.ok("status", "--json")), &st); err != nil || st["version"] != "test" {
		t.Errorf("status --json: %v %v", err, st)
	}
}

func TestDaemonNotRunningAndNoToken(t *testing.T) {
	// A port nobody listens on: take one, then close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--server", addr, "--token", "tact_x", "status"}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	contains(t, "no daemon", errb.String(), "cannot reach the daemon at "+addr, "is tactd running? set --server or TACT_SERVER")

	errb.Reset()
	code = run(context.Background(), []string{"--server", addr, "--token", "", "queue"}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	contains(t, "no token", errb.String(), "no API token", "TACT_TOKEN", "admin.token")
}

func TestPostShowEditDelete(t *testing.T) {
	d := newDaemonAPI(t)
	d.ok("campaign", "create", "spring", "--account", "brand-bsky", "--topic", "promotion", "--timezone", "America/New_York")
	d.ok("post", "create", "--campaign", "spring", "--at", "2026-05-02 09:00", "--text", "Original")
	d.ok("approve", "1")
	// A second marketer edits from a stale view: refused, told what the post is now.
	errs := d.fails(1, "post", "edit", "1", "--text", "Mine", "--if-version", "1")
	contains(t, "stale edit", errs, "post 1 is now approved", "try again")
	out := d.ok("post", "edit", "1", "--text", "Edited")
	contains(t, "edit", out, "post 1: pending", "due 2026-05-02 09:00 EDT")
	out = d.ok("post", "show", "1")
	contains(t, "show", out, "post 1 (version", "in spring: pending", "Edited", "brand-bsky", "waiting")
	d.fails(2, "post", "edit", "1")
	d.fails(1, "post", "delete", "1", "--if-version", "99")
	contains(t, "delete", d.ok("post", "delete", "1"), "deleted post 1")
	errs = d.fails(1, "post", "show", "1")
	contains(t, "show deleted", errs, "check the name or id")
}

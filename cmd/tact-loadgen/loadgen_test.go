package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/rules"
)

// fillSmall fills a temporary data directory with a small queue.
func fillSmall(t *testing.T) (string, fillOptions) {
	t.Helper()
	o := fillOptions{Data: t.TempDir(), Posts: 300, Campaigns: 20, Rules: 120, Accounts: 4, Feeds: 3, Approve: 0.5, Seed: 7}
	var out bytes.Buffer
	if err := fill(context.Background(), o, &out); err != nil {
		t.Fatalf("fill: %v\n%s", err, out.String())
	}
	return o.Data, o
}

// The generated files are what the daemon accepts: tact.toml loads, the rules load as one
// set through the daemon's own parser, and the calm feeds' headlines fire none of them (a
// run must measure the queue, not a pause).
func TestFillWritesAValidSetupThatFiresNothing(t *testing.T) {
	data, o := fillSmall(t)
	cfg, err := config.Load(filepath.Join(data, "tact.toml"))
	if err != nil {
		t.Fatalf("generated tact.toml refused: %v", err)
	}
	if len(cfg.Accounts) != o.Accounts || len(cfg.Feeds) != o.Feeds {
		t.Errorf("%d accounts, %d feeds; want %d, %d", len(cfg.Accounts), len(cfg.Feeds), o.Accounts, o.Feeds)
	}
	for _, a := range cfg.Accounts {
		if a.Plugin != "outbox" || !strings.HasPrefix(a.Settings["path"], filepath.Join(data, "outbox")) || a.Spacing.Duration != time.Second {
			t.Errorf("account %+v: want an outbox in %s/outbox with 1s spacing", a, data)
		}
	}
	if !strings.HasPrefix(cfg.Feeds[0].URL, "file://"+data) {
		t.Errorf("feed url %q is not the generated file", cfg.Feeds[0].URL)
	}
	set, err := rules.LoadFiles(cfg.Daemon.Rules)
	if err != nil {
		t.Fatalf("generated rules refused: %v", err)
	}
	if set.Len() != o.Rules {
		t.Errorf("%d rules loaded, want %d", set.Len(), o.Rules)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		h := calmHeadline(rng)
		if m := set.MatchNews(rules.Text{Title: h, Language: "en"}); len(m) > 0 {
			t.Fatalf("calm headline %q fires %s", h, m[0].Rule.ID)
		}
	}
	// And the rules do fire on their own news: each is a real rule, not filler.
	if m := set.MatchNews(rules.Text{Title: "Earthquake in Lisbon: buildings damaged", Language: "en"}); len(m) == 0 {
		t.Error("no generated rule fires on an earthquake in Lisbon")
	}
}

// The queue is in the daemon's database: the posts asked for, about the share approved,
// every campaign, and the run's stream campaign.
func TestFillStoresTheQueue(t *testing.T) {
	data, o := fillSmall(t)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(data, "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts, err := db.CountPosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := counts[queue.PostPending] + counts[queue.PostApproved]
	if total != o.Posts {
		t.Errorf("%d queued posts, want %d (%v)", total, o.Posts, counts)
	}
	if a := counts[queue.PostApproved]; a < o.Posts/4 || a > o.Posts*3/4 {
		t.Errorf("%d approved of %d with --approve 0.5", a, o.Posts)
	}
	cs, err := db.Campaigns(ctx, queue.CampaignFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != o.Campaigns+1 {
		t.Errorf("%d campaigns, want %d and the stream's", len(cs), o.Campaigns)
	}
	ps, _, err := db.Posts(ctx, queue.PostFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, p := range ps {
		if p.DueAt.Before(now) || p.DueAt.After(now.Add(15*24*time.Hour)) {
			t.Fatalf("post %d due %s: want within the next 14 days", p.ID, p.DueAt)
		}
	}
	if err := fill(ctx, o, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "already holds a tact.db") {
		t.Errorf("a second fill of the same directory: %v", err)
	}
}

// The stream's measured posts are approved, one per account per round, staggered, and
// lateness pairs them with the outbox lines by idempotency key.
func TestStreamAndLateness(t *testing.T) {
	data, _ := fillSmall(t)
	ctx := context.Background()
	start := time.Now().Add(time.Hour)
	st := &stream{Start: start, Warmup: 4 * time.Second, Measured: start.Add(6 * time.Second), Interval: 5 * time.Second, Rounds: 3}
	accounts := accountNames(4)
	if err := st.create(ctx, filepath.Join(data, "tact.db"), accounts); err != nil {
		t.Fatal(err)
	}
	if len(st.due) != 12 {
		t.Fatalf("%d measured posts, want 3 rounds x 4 accounts", len(st.due))
	}
	// Write outbox lines for all but one measured post, each 30ms late.
	dir := t.TempDir()
	var lines bytes.Buffer
	skipped := false
	for key, due := range st.due {
		if !skipped {
			skipped = true
			continue
		}
		lines.WriteString(`{"idempotency_key":"` + key + `","text":"x","published_at":"` + due.Add(30*time.Millisecond).Format(time.RFC3339Nano) + `"}` + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "acct-000.jsonl"), lines.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	late, missing, err := st.lateness(dir)
	if err != nil {
		t.Fatal(err)
	}
	if missing != 1 || len(late) != 11 {
		t.Fatalf("%d late, %d missing; want 11 and 1", len(late), missing)
	}
	for _, l := range late {
		if l != 30*time.Millisecond {
			t.Errorf("lateness %s, want 30ms", l)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond} {
		if got := percentile(ds, q); got != want {
			t.Errorf("p%.0f = %s, want %s", q*100, got, want)
		}
	}
	if percentile(nil, 0.99) != 0 {
		t.Error("percentile of nothing")
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"fill"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "--data") {
		t.Errorf("fill without --data: exit %d, %q", code, errOut.String())
	}
	if code := run(context.Background(), []string{"run", "--data", t.TempDir(), "--tactd", "/bin/true"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "tact-loadgen fill") {
		t.Errorf("run on an unfilled directory: exit %d, %q", code, errOut.String())
	}
}

// The whole run against the real tactd binary, scaled down: both daemons start, publish the
// stream, answer the GET load, and the table has every figure.
func TestRunMeasuresTheRealDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts tactd twice (about 30s)")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "github.com/tact-hq/tact/cmd/tactd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building tactd: %v\n%s", err, out)
	}
	data, _ := fillSmall(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"run", "--data", data, "--tactd", filepath.Join(bin, "tactd"),
		"--rate", "20", "--duration", "1s", "--interval", "1s", "--rounds", "2", "--quiet-wait", "0"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
	}
	table := out.String()
	for _, want := range []string{"cold start to ready", "publish lateness p99 (8 posts", "GET /api/v1/posts?state=pending p99 (20/s for 1s)",
		"errors / sent", "0 / 20", "tactd peak resident memory (VmHWM)", "plugin processes: count", "tactd with 300 queued posts",
		"varied listings, no incident, p99 (20/s for 1s)", "incidents declared through the API (10 asked)",
		"varied listings, 10 incidents open, p99 (20/s for 1s)", "tactd peak resident memory (VmHWM) after it", "approvals meanwhile (5/s; refused)"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	// The incidents were open for the incident load, and their rules acted on the queue.
	if m := regexp.MustCompile(`\n(incidents declared through the API.*)\n`).FindStringSubmatch(table); m == nil ||
		!regexp.MustCompile(`\s10 in [^:]+: [1-9]\d* campaigns paused, [1-9]\d* posts held\s+10 in [^:]+: 0 campaigns paused, 0 posts held`).MatchString(m[1]) {
		t.Errorf("the incident row does not say that 10 incidents paused campaigns and held posts (none on the empty baseline):\n%s", table)
	}
	if strings.Contains(table, "first varied listings") {
		t.Errorf("listings failed during the incident load:\n%s", table)
	}
	if strings.Contains(table, "never published") {
		t.Errorf("some stream posts were never published:\n%s", table)
	}
	if m, _ := filepath.Glob(filepath.Join(data, "baseline-*")); len(m) != 0 {
		t.Errorf("the baseline's directory was left behind: %v", m)
	}
}

// The incident load declares the same rules every time, in the generated rules' mix of
// actions, each once.
func TestIncidentRules(t *testing.T) {
	data, _ := fillSmall(t)
	globs := []string{filepath.Join(data, "rules.d", "*.toml")}
	ids, err := incidentRules(globs, 10)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := incidentRules(globs, 10)
	if strings.Join(ids, " ") != strings.Join(again, " ") {
		t.Errorf("two picks differ: %v and %v", ids, again)
	}
	set, err := rules.LoadFiles(globs)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("rule %s picked twice", id)
		}
		seen[id] = true
		actions[set.Rule(id).Action]++
	}
	if len(ids) != 10 || actions[rules.ActionPause] != 6 || actions[rules.ActionHold] != 2 || actions[rules.ActionFlag] != 2 {
		t.Errorf("picked %v: actions %v, want 6 pause, 2 hold, 2 flag", ids, actions)
	}
	if _, err := incidentRules(globs, 121); err == nil || !strings.Contains(err.Error(), "only 120 rules") {
		t.Errorf("more incidents than rules: %v", err)
	}
}

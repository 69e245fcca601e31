package watch_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/daemon/watch"
)

var ctxBG = context.Background()

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openStore opens a real SQLite database in a temp dir.
func openStore(t testing.TB, opts ...sqlite.Option) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(ctxBG, filepath.Join(t.TempDir(), "tact.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rulesDir copies rule fixtures from testdata/rules into a fresh directory and returns its glob.
func rulesDir(t testing.TB, names ...string) (dir, glob string) {
	t.Helper()
	dir = t.TempDir()
	for _, n := range names {
		copyFile(t, filepath.Join("testdata", "rules", n), filepath.Join(dir, n))
	}
	return dir, filepath.Join(dir, "*.toml")
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, b)
}

// writeFile replaces a file atomically (write beside, rename), as a careful feed publisher does.
func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hook is a real webhook receiver.
type hook struct {
	mu     sync.Mutex
	events []notify.Event
	texts  []string
	URL    string
}

func newHook(t testing.TB) *hook {
	h := &hook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b notify.Body
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		h.mu.Lock()
		h.events = append(h.events, b.Tact)
		h.texts = append(h.texts, b.Text)
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

func (h *hook) find(kind string, ok func(notify.Event, string) bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, e := range h.events {
		if e.Kind == kind && (ok == nil || ok(e, h.texts[i])) {
			return true
		}
	}
	return false
}

func (h *hook) count(kind string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// notifier starts a real webhook notifier posting to h.
func (h *hook) notifier(t testing.TB) notify.Notifier {
	w := notify.NewWebhook(h.URL, notify.WebhookOptions{Logger: quiet(), Backoff: time.Millisecond})
	ctx, cancel := context.WithCancel(ctxBG)
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// env is a watcher on a real store with real rules, notifying a real webhook.
type env struct {
	st    *sqlite.DB
	rules *watch.Rules
	w     *watch.Watcher
	hook  *hook
	dir   string // rules directory
}

type envOpts struct {
	rules []string // fixture names; default all four
	feeds []config.Feed
	clock *clock.Fake
	opt   func(*watch.Options)
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	if o.rules == nil {
		o.rules = []string{"air.toml", "storm.toml", "quake.toml", "wildfire.toml"}
	}
	var sopts []sqlite.Option
	var clk clock.Clock = clock.Real{}
	now := time.Now
	if o.clock != nil {
		sopts = append(sopts, sqlite.WithClock(o.clock.Now))
		clk, now = o.clock, o.clock.Now
	}
	e := &env{st: openStore(t, sopts...), hook: newHook(t)}
	var glob string
	e.dir, glob = rulesDir(t, o.rules...)
	n := e.hook.notifier(t)
	var err error
	e.rules, err = watch.NewRules(ctxBG, []string{glob}, watch.RulesOptions{Store: e.st, Notifier: n, Logger: quiet(), Now: now, Debounce: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	opt := watch.Options{Store: e.st, Rules: e.rules, Feeds: o.feeds, Notifier: n, Logger: quiet(), Clock: clk, MaxBackoff: 100 * time.Millisecond}
	if o.opt != nil {
		o.opt(&opt)
	}
	e.w, err = watch.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// run starts the watcher until the test ends.
func (e *env) run(t testing.TB) {
	ctx, cancel := context.WithCancel(ctxBG)
	done := make(chan struct{})
	go func() { _ = e.w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// campaign creates a campaign with pending posts (approved ones when approve is set).
func (e *env) campaign(t testing.TB, name string, topics []string, approve bool, texts ...string) (*queue.Campaign, []*queue.Post) {
	t.Helper()
	c := &queue.Campaign{Name: name, Accounts: []string{"brand"}, Topics: topics}
	if err := e.st.CreateCampaign(ctxBG, queue.System("test"), c); err != nil {
		t.Fatal(err)
	}
	var posts []*queue.Post
	for i, text := range texts {
		p := &queue.Post{CampaignID: c.ID, Text: text, DueAt: time.Now().Add(time.Duration(i+1) * time.Hour)}
		if err := e.st.CreatePost(ctxBG, queue.System("test"), p); err != nil {
			t.Fatal(err)
		}
		if approve {
			var err error
			if p, err = e.st.Apply(ctxBG, queue.Actor{Kind: queue.ActorUser, Name: "ann"}, p.ID, 0, queue.EventApprove, ""); err != nil {
				t.Fatal(err)
			}
		}
		posts = append(posts, p)
	}
	return c, posts
}

func (e *env) campaignState(t testing.TB, id int64) *queue.Campaign {
	t.Helper()
	c, err := e.st.Campaign(ctxBG, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) post(t testing.TB, id int64) *queue.Post {
	t.Helper()
	p, err := e.st.Post(ctxBG, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) open(t testing.TB) []*queue.Incident {
	t.Helper()
	ins, err := e.st.Incidents(ctxBG, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}})
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

func feedStatus(w *watch.Watcher, name string) watch.FeedStatus {
	for _, s := range w.FeedStatus() {
		if s.Name == name {
			return s
		}
	}
	return watch.FeedStatus{}
}

func fileURL(path string) string { return "file://" + filepath.ToSlash(path) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func feed(name, url string, every time.Duration) config.Feed {
	return config.Feed{Name: name, URL: url, Every: config.Duration{Duration: every}}
}

package publish

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/plugins/outbox"
	"github.com/tact-hq/tact/plugins/sdk"
)

// t0 is a Monday morning; every test starts there.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

var person = queue.Actor{Kind: queue.ActorUser, Name: "alice"}

// harness is a publisher over a real SQLite file, with a fake clock and real or scripted
// networks.
type harness struct {
	t     *testing.T
	clk   *clock.Fake
	path  string
	db    *sqlite.DB
	nets  *networks
	notes *notes
	opts  Options
	pub   *Publisher

	cancel context.CancelFunc
	done   chan struct{}
}

func newHarness(t *testing.T, configure func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, clk: clock.NewFake(t0), path: filepath.Join(t.TempDir(), "tact.db"),
		nets: &networks{m: map[string]sdk.Network{}}, notes: &notes{}}
	h.openDB()
	h.opts = Options{
		Networks:       h.nets,
		OutcomeUnknown: func(err error) bool { return errors.Is(err, errTransport) },
		Notifier:       h.notes,
		Clock:          h.clk,
		Backoff:        Backoff{Base: 30 * time.Second, Max: 10 * time.Minute}, // no jitter: exact retry times
		LookupTries:    3,
		LookupBackoff:  5 * time.Second,
		MaxIdle:        24 * time.Hour, // so that the timers tests wait for are the ones that matter
	}
	if configure != nil {
		configure(&h.opts)
	}
	return h
}

func (h *harness) openDB() {
	h.t.Helper()
	db, err := sqlite.Open(context.Background(), h.path, sqlite.WithClock(h.clk.Now))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { db.Close() })
	h.db = db
}

// start runs a new Publisher over the database, as a daemon start does.
func (h *harness) start() {
	h.t.Helper()
	o := h.opts
	o.Store = h.db
	p, err := New(o)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.pub, h.cancel, h.done = p, cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		if err := p.Run(ctx); err != nil {
			h.t.Error(err)
		}
	}()
	h.t.Cleanup(h.stop)
}

// stop cancels Run and waits for it to return.
func (h *harness) stop() {
	h.t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	// Work still in flight (a lookup backoff) waits on the fake clock, and so does the
	// grace period: move time on until Run returns.
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-h.done:
			h.cancel = nil
			return
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			h.t.Fatal("Run did not return after its context was cancelled")
		}
		h.clk.Advance(time.Minute)
	}
}

// wait fails the test unless cond becomes true within a few (real) seconds.
func (h *harness) wait(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// sleepingUntil waits until something (the publisher's loop, a lookup backoff) waits on the
// fake clock for exactly at: the proof that the publisher planned to wake then.
func (h *harness) sleepingUntil(at time.Time) {
	h.t.Helper()
	h.timer(fmt.Sprintf("a timer at %s", at.Format(time.TimeOnly)), func(d time.Time) bool { return d.Equal(at) })
}

// idle waits until the publisher sleeps past the current fake time (a wake finished).
func (h *harness) idle() {
	h.t.Helper()
	now := h.clk.Now()
	h.timer("the publisher to sleep", func(d time.Time) bool { return d.After(now) })
}

func (h *harness) timer(what string, ok func(time.Time) bool) {
	h.t.Helper()
	stop := make(chan struct{})
	timeout := time.AfterFunc(10*time.Second, func() { close(stop) })
	defer timeout.Stop()
	if !h.clk.WaitForTimer(stop, ok) {
		h.t.Fatalf("timed out waiting for %s; timers: %v", what, h.clk.Timers())
	}
}

// at waits for the publisher to plan a wake at t, then moves the clock there.
func (h *harness) at(t time.Time) {
	h.t.Helper()
	h.sleepingUntil(t)
	h.clk.Set(t)
}

func (h *harness) campaign(name string, accounts ...string) *queue.Campaign {
	h.t.Helper()
	c := &queue.Campaign{Name: name, Accounts: accounts, TimeZone: "Europe/Paris"}
	if err := h.db.CreateCampaign(context.Background(), person, c); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// approved creates a post due at due and approves it.
func (h *harness) approved(c *queue.Campaign, due time.Time, text string) *queue.Post {
	h.t.Helper()
	p := &queue.Post{CampaignID: c.ID, Text: text, DueAt: due}
	ctx := context.Background()
	if err := h.db.CreatePost(ctx, person, p); err != nil {
		h.t.Fatal(err)
	}
	p, err := h.db.Apply(ctx, person, p.ID, 0, queue.EventApprove, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) post(id int64) *queue.Post {
	h.t.Helper()
	p, err := h.db.Post(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) state(id int64) queue.PostState { return h.post(id).State }

func (h *harness) waitState(id int64, s queue.PostState) *queue.Post {
	h.t.Helper()
	var p *queue.Post
	h.wait(fmt.Sprintf("post %d to be %s", id, s), func() bool { p = h.post(id); return p.State == s })
	return p
}

// networks is the tiny adapter from account names to in-process sdk.Networks.
type networks struct {
	mu sync.Mutex
	m  map[string]sdk.Network
}

func (n *networks) Network(account string) (sdk.Network, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if net, ok := n.m[account]; ok {
		return net, nil
	}
	return nil, fmt.Errorf("no account %q is configured", account)
}

func (n *networks) set(account string, net sdk.Network) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.m[account] = net
}

// outboxAccount configures the real outbox network on a file and serves it as account.
func (h *harness) outboxAccount(account string) string {
	h.t.Helper()
	path := filepath.Join(h.t.TempDir(), account+".jsonl")
	o := outbox.New(h.clk.Now)
	if err := o.Configure(context.Background(), map[string]string{"path": path}); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { o.Close() })
	h.nets.set(account, o)
	return path
}

type outboxLine struct {
	IdempotencyKey string    `json:"idempotency_key"`
	Text           string    `json:"text"`
	PublishedAt    time.Time `json:"published_at"`
	RemoteID       string    `json:"remote_id"`
}

func readOutbox(t *testing.T, path string) []outboxLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []outboxLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l outboxLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("outbox line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// errTransport stands for the host's "the plugin died mid-call".
var errTransport = errors.New("plugin process exited during the call")

// scripted is a network whose answers a test decides, counting calls.
type scripted struct {
	mu       sync.Mutex
	publish  func(n int, ctx context.Context, key string) (sdk.Receipt, error)
	lookup   func(n int, key string) (sdk.Receipt, bool, error)
	keys     []string // keys Publish was called with, in order
	lookups  int
	started  chan string // if set, receives each key as Publish starts
	finished int
}

func (s *scripted) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "scripted"}, nil
}
func (s *scripted) Configure(context.Context, map[string]string) error { return nil }
func (s *scripted) Validate(context.Context, sdk.Post) ([]sdk.Problem, error) {
	return nil, nil
}
func (s *scripted) Delete(context.Context, string) error { return nil }

func (s *scripted) Publish(ctx context.Context, _ sdk.Post, key string) (sdk.Receipt, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	n := len(s.keys)
	s.mu.Unlock()
	if s.started != nil {
		s.started <- key
	}
	r, err := s.publish(n, ctx, key)
	s.mu.Lock()
	s.finished++
	s.mu.Unlock()
	return r, err
}

func (s *scripted) Lookup(_ context.Context, key string) (sdk.Receipt, bool, error) {
	s.mu.Lock()
	s.lookups++
	n := s.lookups
	s.mu.Unlock()
	if s.lookup == nil {
		return sdk.Receipt{}, false, errors.New("lookup not scripted")
	}
	return s.lookup(n, key)
}

func (s *scripted) calls() (publishes, lookups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys), s.lookups
}

func (s *scripted) publishKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

func receipt(id string) sdk.Receipt {
	return sdk.Receipt{RemoteID: id, URL: "https://social.example/@brand/" + id}
}

// notes records notifications.
type notes struct {
	mu  sync.Mutex
	evs []notify.Event
}

func (n *notes) Notify(_ context.Context, e notify.Event) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.evs = append(n.evs, e)
}

func (n *notes) of(kind string) []notify.Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []notify.Event
	for _, e := range n.evs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

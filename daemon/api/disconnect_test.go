package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// logRecorder is a slog handler that keeps every record, for tests that check what was
// logged at which level.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// at returns the messages logged at level, each with its attributes.
func (l *logRecorder) at(level slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		if r.Level != level {
			continue
		}
		s := r.Message
		r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
		out = append(out, s)
	}
	return out
}

// stallingStore is the real store whose campaign listing is held up: it tells the test it
// was entered, waits for stall's context to end, then asks the real store with that context.
// stall is the request's context by default (a listing that outlasts the client), or a
// shorter deadline of the daemon's own.
type stallingStore struct {
	queue.Store
	entered chan struct{}
	stall   func(context.Context) (context.Context, context.CancelFunc)
}

func (s *stallingStore) Campaigns(ctx context.Context, f queue.CampaignFilter) ([]*queue.Campaign, error) {
	s.entered <- struct{}{}
	ctx, cancel := s.stall(ctx)
	defer cancel()
	<-ctx.Done()
	return s.Store.Campaigns(ctx, f)
}

// stallEnv is the real handler on a real store, with a record of its log and a signal each
// time a request's handler has returned.
type stallEnv struct {
	srv     *httptest.Server
	store   *stallingStore
	logs    *logRecorder
	served  chan struct{}
	viewer  string
	timeout time.Duration
}

func newStallEnv(t *testing.T, stall func(context.Context) (context.Context, context.CancelFunc)) *stallEnv {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tok := queue.NewToken()
	if err := db.CreateUser(context.Background(), queue.System("test"), &queue.User{Name: "vera", Role: queue.RoleViewer}, queue.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	e := &stallEnv{store: &stallingStore{Store: db, entered: make(chan struct{}, 1), stall: stall}, logs: &logRecorder{},
		served: make(chan struct{}, 1), viewer: tok, timeout: 10 * time.Second}
	h := api.New(api.Options{Store: e.store, Logger: slog.New(e.logs)})
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		e.served <- struct{}{}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *stallEnv) request(ctx context.Context, t *testing.T) *http.Request {
	req, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v1/campaigns", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.viewer)
	return req
}

func (e *stallEnv) wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(e.timeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestClientGoneIsNoInternalError: a client that gives up while its listing is still being
// read (the request's context is cancelled mid-handler) leaves a DEBUG line, not an ERROR.
func TestClientGoneIsNoInternalError(t *testing.T) {
	e := newStallEnv(t, func(ctx context.Context) (context.Context, context.CancelFunc) { return ctx, func() {} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		resp, err := e.srv.Client().Do(e.request(ctx, t))
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	e.wait(t, e.store.entered, "the listing to start")
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the client's request ended with %v, want context.Canceled", err)
	}
	e.wait(t, e.served, "the handler to return")
	if errs := e.logs.at(slog.LevelError); len(errs) > 0 {
		t.Errorf("a client that went away was logged as an error: %q", errs)
	}
	if dbg := e.logs.at(slog.LevelDebug); len(dbg) != 1 {
		t.Errorf("debug lines %q, want one saying the client went away", dbg)
	}
}

// TestDaemonDeadlineIsAnInternalError: a deadline that runs out inside the daemon, with the
// client still waiting, is an internal error: 500 and an ERROR line.
func TestDaemonDeadlineIsAnInternalError(t *testing.T) {
	e := newStallEnv(t, func(ctx context.Context) (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, time.Millisecond)
	})
	resp, err := e.srv.Client().Do(e.request(context.Background(), t))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	e.wait(t, e.store.entered, "the listing to start")
	e.wait(t, e.served, "the handler to return")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("a deadline inside the daemon answered %d %s, want 500", resp.StatusCode, body)
	}
	if errs := e.logs.at(slog.LevelError); len(errs) != 1 {
		t.Errorf("error lines %q, want one for the deadline", errs)
	}
}

// TestClientGone: the one decision of what counts as the client going away.
func TestClientGone(t *testing.T) {
	live := context.Background()
	gone, cancel := context.WithCancel(live)
	cancel()
	late, cancel2 := context.WithDeadline(live, time.Unix(0, 0))
	defer cancel2()
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"cancelled request", gone, context.Canceled, true},
		{"any error once the request is cancelled", gone, errors.New("sqlite: interrupted"), true},
		{"broken pipe", live, &netError{syscall.EPIPE}, true},
		{"connection reset", live, &netError{syscall.ECONNRESET}, true},
		{"deadline inside the daemon", live, context.DeadlineExceeded, false},
		{"request past its deadline", late, context.DeadlineExceeded, false},
		{"other error", live, errors.New("disk on fire"), false},
		{"no error", gone, nil, false},
	} {
		if got := api.ClientGone(c.ctx, c.err); got != c.want {
			t.Errorf("%s: ClientGone = %v, want %v", c.name, got, c.want)
		}
	}
}

// netError wraps a syscall error the way net.OpError does.
type netError struct{ err error }

func (e *netError) Error() string { return "write tcp: " + e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// applyStallingStore holds up the first approval until the request's context ends.
type applyStallingStore struct {
	queue.Store
	entered chan struct{}
	once    sync.Once
}

func (s *applyStallingStore) Apply(ctx context.Context, by queue.Actor, id, version int64, ev queue.Event, reason string) (*queue.Post, error) {
	s.once.Do(func() {
		s.entered <- struct{}{}
		<-ctx.Done()
	})
	return s.Store.Apply(ctx, by, id, version, ev, reason)
}

// TestClientGoneDuringBulkApprove: a bulk approval whose client gives up stops there and
// logs one DEBUG line, not an ERROR per post left.
func TestClientGoneDuringBulkApprove(t *testing.T) {
	e := newEnv(t)
	e.campaign("summer", nil)
	var ids []int64
	for i := 0; i < 5; i++ {
		ids = append(ids, e.post("summer", fmt.Sprintf("post %d", i), "+2h"))
	}
	logs := &logRecorder{}
	st := &applyStallingStore{Store: e.store, entered: make(chan struct{}, 1)}
	served := make(chan struct{}, 1)
	h := api.New(api.Options{Store: st, Logger: slog.New(logs), Validator: lengthValidator{max: 50}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		served <- struct{}{}
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body, _ := json.Marshal(api.BulkInput{IDs: ids})
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/v1/posts/approve", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tokens[queue.RoleMarketer])
	req.Header.Set("Content-Type", "application/json")
	errc := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	select {
	case <-st.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the bulk approval did not start")
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the client's request ended with %v, want context.Canceled", err)
	}
	select {
	case <-served:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not return")
	}
	if errs := logs.at(slog.LevelError); len(errs) > 0 {
		t.Fatalf("a client that went away was logged as %d errors: %q", len(errs), errs)
	}
	if dbg := logs.at(slog.LevelDebug); len(dbg) != 1 {
		t.Fatalf("debug lines %q, want one", dbg)
	}
}

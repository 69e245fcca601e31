package web_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/web"
)

// logRecorder is a slog handler that keeps every record.
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

func (l *logRecorder) at(level slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		if r.Level == level {
			s := r.Message
			r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
			out = append(out, s)
		}
	}
	return out
}

// stallingStore is the fixture's real store whose campaign listing, once armed, waits for
// the request's context to end before asking the real store.
type stallingStore struct {
	queue.Store
	armed   atomic.Bool
	entered chan struct{}
}

func (s *stallingStore) Campaigns(ctx context.Context, f queue.CampaignFilter) ([]*queue.Campaign, error) {
	if s.armed.Load() {
		s.entered <- struct{}{}
		<-ctx.Done()
	}
	return s.Store.Campaigns(ctx, f)
}

// TestClientGoneIsNoInternalErrorOnAPage: a person who closes the tab while the queue page
// is still being read leaves a DEBUG line, not an ERROR.
func TestClientGoneIsNoInternalErrorOnAPage(t *testing.T) {
	f := mustFixture(t)
	logs := &logRecorder{}
	st := &stallingStore{Store: f.store, entered: make(chan struct{}, 1)}
	h := web.New(web.Options{Store: st, Logger: slog.New(logs), SessionKey: []byte("0123456789abcdef0123456789abcdef")})
	served := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.URL.Path == "/" {
			served <- struct{}{}
		}
	}))
	defer srv.Close()
	c := f.client()
	c.base = srv.URL
	c.login(f.tokens[queue.RoleViewer])
	st.armed.Store(true)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := c.hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	wait(st.entered, "the queue page to list campaigns")
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the request ended with %v, want context.Canceled", err)
	}
	wait(served, "the page handler to return")
	if errs := logs.at(slog.LevelError); len(errs) > 0 {
		t.Errorf("a person who went away was logged as an error: %q", errs)
	}
	if dbg := logs.at(slog.LevelDebug); len(dbg) != 1 {
		t.Errorf("debug lines %q, want one saying the client went away", dbg)
	}
}

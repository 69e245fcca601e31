package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/queue"
)

// receiver is a real HTTP webhook endpoint that records bodies and answers with the
// status codes it is told to, in turn.
type receiver struct {
	mu     sync.Mutex
	bodies []notify.Body
	codes  []int // answered in order; 200 once exhausted
	hits   atomic.Int64
	srv    *httptest.Server
}

func newReceiver(t *testing.T, codes ...int) *receiver {
	r := &receiver{codes: codes}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		code := 200
		if len(r.codes) > 0 {
			code, r.codes = r.codes[0], r.codes[1:]
		}
		if code == 200 {
			var body notify.Body
			if err := json.Unmarshal(b, &body); err != nil {
				t.Errorf("webhook body is not JSON: %v: %s", err, b)
			}
			if req.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q", req.Header.Get("Content-Type"))
			}
			r.bodies = append(r.bodies, body)
		}
		r.mu.Unlock()
		if code == 429 {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []notify.Body {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Body(nil), r.bodies...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func run(t *testing.T, w *notify.Webhook) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestWebhookSlackBodyWithEvent(t *testing.T) {
	r := newReceiver(t)
	w := notify.NewWebhook(r.srv.URL, notify.WebhookOptions{Logger: quiet()})
	run(t, w)
	w.Notify(context.Background(), notify.Event{
		Kind: notify.CampaignPaused, Text: "Campaign summer-flights paused by rule air-disaster: Plane crash",
		RuleID: "air-disaster", CampaignID: 7, Campaign: "summer-flights",
		Evidence: []queue.Evidence{{Source: "world", Title: "Plane crash", URL: "https://news.example/1"}},
	})
	waitFor(t, "one webhook", func() bool { return len(r.got()) == 1 })
	b := r.got()[0]
	if !strings.Contains(b.Text, "air-disaster") || b.Tact.RuleID != "air-disaster" || b.Tact.Campaign != "summer-flights" ||
		len(b.Tact.Evidence) != 1 || b.Tact.Evidence[0].URL != "https://news.example/1" || b.Tact.At.IsZero() {
		t.Fatalf("body = %+v", b)
	}
	waitFor(t, "sent to be counted", func() bool { return w.Status().Sent == 1 })
	if s := w.Status(); s.Dropped != 0 || s.LastOK.IsZero() {
		t.Fatalf("status = %+v", s)
	}
}

func TestWebhookRetriesTransientFailures(t *testing.T) {
	r := newReceiver(t, 500, 429, 503)
	w := notify.NewWebhook(r.srv.URL, notify.WebhookOptions{Logger: quiet(), Backoff: time.Millisecond, MaxAttempts: 5})
	run(t, w)
	w.Notify(context.Background(), notify.Event{Kind: notify.PostHeld, Text: "held"})
	w.Notify(context.Background(), notify.Event{Kind: notify.PostFlagged, Text: "flagged"})
	waitFor(t, "both events after retries", func() bool { return len(r.got()) == 2 })
	got := r.got()
	if got[0].Text != "held" || got[1].Text != "flagged" {
		t.Fatalf("events out of order: %+v", got)
	}
	if r.hits.Load() != 5 {
		t.Fatalf("hits = %d, want 3 failures + 2 successes", r.hits.Load())
	}
}

func TestWebhookGivesUpOnRefusalAndSpentAttempts(t *testing.T) {
	r := newReceiver(t, 404, 500, 500, 200)
	w := notify.NewWebhook(r.srv.URL, notify.WebhookOptions{Logger: quiet(), Backoff: time.Millisecond, MaxAttempts: 2})
	run(t, w)
	w.Notify(context.Background(), notify.Event{Kind: notify.PostHeld, Text: "refused"}) // 404: not retried
	w.Notify(context.Background(), notify.Event{Kind: notify.PostHeld, Text: "spent"})   // 500, 500: given up
	w.Notify(context.Background(), notify.Event{Kind: notify.PostHeld, Text: "third"})   // 200
	waitFor(t, "third event", func() bool { return w.Status().Sent == 1 })
	if r.got()[0].Text != "third" || r.hits.Load() != 4 {
		t.Fatalf("got %+v after %d hits", r.got(), r.hits.Load())
	}
	if s := w.Status(); s.Dropped != 2 || s.Sent != 1 || !strings.Contains(s.LastError, "500") {
		t.Fatalf("status = %+v", s)
	}
}

func TestWebhookNeverBlocksTheCaller(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	w := notify.NewWebhook(hang.URL+"/services/T0/B0/s3cr3t-token", notify.WebhookOptions{Logger: quiet(), QueueSize: 4, Timeout: 50 * time.Millisecond, Backoff: time.Millisecond, MaxAttempts: 2})
	run(t, w)
	done := make(chan struct{})
	go func() {
		for range 100 {
			w.Notify(context.Background(), notify.Event{Kind: notify.PostFailed, Text: "x"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Notify blocked on a hanging receiver")
	}
	waitFor(t, "drops to be counted", func() bool { return w.Status().Dropped >= 90 })
	waitFor(t, "timeouts reported", func() bool { return strings.Contains(w.Status().LastError, "deadline") })
	if strings.Contains(w.Status().LastError, "s3cr3t-token") {
		t.Fatalf("error leaks the webhook URL: %s", w.Status().LastError)
	}
}

func TestNewFromConfig(t *testing.T) {
	r := newReceiver(t)
	m, err := notify.New([]config.Notify{{Kind: "webhook", URL: r.srv.URL}, {Kind: "webhook", URL: r.srv.URL}}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	m.Notify(ctx, notify.Event{Kind: notify.IncidentOpened, Text: "opened"})
	waitFor(t, "fan-out to both", func() bool { return len(r.got()) == 2 })
	cancel()
	<-done

	if _, err := notify.New([]config.Notify{{Kind: "email", URL: "x"}}, quiet()); err == nil || !strings.Contains(err.Error(), `unknown kind "email"`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := notify.New([]config.Notify{{Kind: "webhook", URL: "hooks.slack.com/secret"}}, quiet()); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v", err)
	}
}

// TestWebhookErrorsHideTheURL: a webhook URL is a secret as a whole. When the receiver
// cannot be reached, net/http's error repeats the URL (its password as ***, its path and
// query as they are); neither the status nor the log may show any part of it but the host.
func TestWebhookErrorsHideTheURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	const pass, path, token = "hook-pass-0123456789", "hook-path-0123456789", "hook-token-0123456789"
	var logs strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := notify.NewWebhook("http://alerts:"+pass+"@"+dead+"/services/"+path+"?token="+token,
		notify.WebhookOptions{Logger: log, Backoff: time.Millisecond, MaxAttempts: 2})
	run(t, w)
	w.Notify(context.Background(), notify.Event{Kind: notify.PostFailed, Text: "failed"})
	waitFor(t, "the event to be dropped", func() bool { return w.Status().Dropped == 1 })
	mu.Lock()
	text := w.Status().LastError + "\n" + logs.String()
	mu.Unlock()
	if !strings.Contains(text, "connection refused") || !strings.Contains(text, dead) {
		t.Errorf("the error does not say what failed where:\n%s", text)
	}
	for _, s := range []string{pass, path, token} {
		if strings.Contains(text, s) {
			t.Errorf("%s appears in the status or the log:\n%s", s, text)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

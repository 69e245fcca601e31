package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// WebhookOptions tune a Webhook. Zero values take the defaults noted on each field.
type WebhookOptions struct {
	Client      *http.Client  // default: a client with no global timeout (Timeout applies per attempt)
	Timeout     time.Duration // per attempt, default 10s
	QueueSize   int           // events waiting to be sent, default 256
	MaxAttempts int           // per event, default 5
	Backoff     time.Duration // first retry delay, doubled each time, default 1s
	MaxBackoff  time.Duration // cap on the retry delay (and on a Retry-After), default 1m
	Logger      *slog.Logger  // default slog.Default()
}

// Webhook posts events as Slack-compatible JSON ({"text": "…", "tact": {event}}) to one URL.
// Notify only queues: a background loop (Run) sends in order, retries with backoff and
// drops an event when the queue is full or its attempts are spent, logging why. A slow or
// dead receiver therefore never slows down or fails the action that caused the event.
type Webhook struct {
	url  string
	opt  WebhookOptions
	log  *slog.Logger
	q    chan Event
	mu   sync.Mutex
	stat WebhookStatus
}

// WebhookStatus counts what a webhook did, for status pages and metrics.
type WebhookStatus struct {
	Sent      int64     `json:"sent"`
	Dropped   int64     `json:"dropped"` // queue full, or attempts spent, or refused (4xx)
	Queued    int       `json:"queued"`
	LastError string    `json:"last_error,omitempty"`
	LastOK    time.Time `json:"last_ok,omitzero"`
}

// NewWebhook returns a webhook notifier for url. Call Run to start sending.
func NewWebhook(url string, opt WebhookOptions) *Webhook {
	if opt.Client == nil {
		opt.Client = &http.Client{}
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.QueueSize <= 0 {
		opt.QueueSize = 256
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 5
	}
	if opt.Backoff <= 0 {
		opt.Backoff = time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	// The URL is a secret as a whole (Slack's carries its token in the path): logs name the
	// host only, so that an admin can still tell which [[notify]] entry failed.
	log := opt.Logger.With("notify", "webhook", "url", redact.SecretURL(url))
	return &Webhook{url: url, opt: opt, log: log, q: make(chan Event, opt.QueueSize)}
}

// Notify queues e without blocking. When the queue is full the event is dropped and logged:
// the caller's action must never wait on a receiver.
func (w *Webhook) Notify(_ context.Context, e Event) {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	select {
	case w.q <- e:
	default:
		w.mu.Lock()
		w.stat.Dropped++
		w.mu.Unlock()
		w.log.Warn("notification dropped: webhook queue full", "kind", e.Kind, "text", e.Text, "queue", cap(w.q))
	}
}

// Status returns the webhook's counters.
func (w *Webhook) Status() WebhookStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stat
	s.Queued = len(w.q)
	return s
}

// Run sends queued events until ctx ends. Events still queued then are attempted once more
// each, within a few seconds, so that a shutdown right after a pause still tells people.
func (w *Webhook) Run(ctx context.Context) error {
	for {
		select {
		case e := <-w.q:
			w.deliver(ctx, e)
		case <-ctx.Done():
			w.flush()
			return nil
		}
	}
}

// flush makes one attempt per queued event within a short grace period after shutdown.
func (w *Webhook) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		select {
		case e := <-w.q:
			if ctx.Err() != nil {
				w.drop(e, "daemon stopping")
				continue
			}
			if _, err := w.post(ctx, e); err != nil {
				w.drop(e, err.Error())
			}
		default:
			return
		}
	}
}

// deliver sends e, retrying transient failures (network errors, timeouts, 429, 5xx) with
// capped exponential backoff, honouring Retry-After.
func (w *Webhook) deliver(ctx context.Context, e Event) {
	delay := w.opt.Backoff
	for attempt := 1; ; attempt++ {
		retryAfter, err := w.post(ctx, e)
		if err == nil {
			return
		}
		var perm permanentError
		if asPermanent(err, &perm) || attempt >= w.opt.MaxAttempts {
			w.drop(e, fmt.Sprintf("%v (attempt %d of %d)", err, attempt, w.opt.MaxAttempts))
			return
		}
		wait := delay
		if retryAfter > 0 {
			wait = retryAfter
		}
		wait = min(wait, w.opt.MaxBackoff)
		w.log.Info("webhook failed, retrying", "kind", e.Kind, "error", err, "attempt", attempt, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			// Requeue so that flush gives it its last chance.
			select {
			case w.q <- e:
			default:
				w.drop(e, "daemon stopping")
			}
			return
		}
		delay = min(delay*2, w.opt.MaxBackoff)
	}
}

func (w *Webhook) drop(e Event, why string) {
	w.mu.Lock()
	w.stat.Dropped++
	w.stat.LastError = why
	w.mu.Unlock()
	w.log.Error("notification not delivered", "kind", e.Kind, "text", e.Text, "error", why)
}

type permanentError struct{ msg string }

func (p permanentError) Error() string { return p.msg }

func asPermanent(err error, p *permanentError) bool {
	v, ok := err.(permanentError)
	if ok {
		*p = v
	}
	return ok
}

// Body is the JSON a webhook receives: Slack reads Text, other tools can read Tact.
type Body struct {
	Text string `json:"text"`
	Tact Event  `json:"tact"`
}

// post makes one attempt. It returns a permanentError for answers that retrying cannot fix
// (4xx other than 408 and 429), and the server's Retry-After when it gave one.
func (w *Webhook) post(ctx context.Context, e Event) (time.Duration, error) {
	text := e.Text
	if text == "" {
		text = "tact: " + e.Kind
	}
	b, err := json.Marshal(Body{Text: text, Tact: e})
	if err != nil {
		return 0, permanentError{"encode event: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, w.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(b))
	if err != nil {
		return 0, permanentError{"bad webhook URL: " + redact.Error(err, w.url).Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tactd")
	resp, err := w.opt.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook POST failed: %w", redact.Error(err, w.url))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		w.mu.Lock()
		w.stat.Sent++
		w.stat.LastOK = time.Now().UTC()
		w.mu.Unlock()
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return sdk.RetryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("webhook answered %s", resp.Status)
	default:
		return 0, permanentError{fmt.Sprintf("webhook answered %s: check the [[notify]] url", resp.Status)}
	}
}

// Package webhook publishes a post by POSTing it, signed, to an HTTP endpoint the user runs
// (a CMS, a chat bridge, a network tact has no plugin for).
//
// Settings: url (the receiver), secret (the HMAC key shared with the receiver), timeout
// (a Go duration, default 10s).
//
// The receiver contract (docs/webhook.md has it with a verification snippet):
//
// Publish is POST url with the JSON body
//
//	{"idempotency_key": "...", "text": "...", "link": "...", "language": "en",
//	 "media": [{"id": "...", "mime_type": "image/png", "size": 1234, "alt": "...", "data": "<base64>"}],
//	 "sent_at": "2026-11-22T09:00:00Z"}
//
// and the headers Content-Type: application/json, Idempotency-Key (the same key),
// X-Tact-Timestamp (sent_at in Unix seconds) and X-Tact-Signature: sha256=<hex of
// HMAC-SHA256 over the exact body bytes with the secret>. The receiver verifies the
// signature (constant-time), should refuse a sent_at more than five minutes away from its
// clock, and must treat a repeated idempotency_key as the same post: answer 2xx again
// without publishing twice. A 2xx answer may carry {"id": "...", "url": "..."}; without an
// id the idempotency key is the post's id. 401/403 mean the account needs attention, 429
// (with Retry-After) slows tact down, other 4xx refuse the post for good, 5xx and timeouts
// are retried. Redirects are not followed: set url to the final address.
//
// Lookup (optional) is GET url?idempotency_key=KEY, signed like a publish but over the
// raw query string (everything after "?", as sent). The receiver answers 200 with
// {"found": true, "id": "...", "url": "..."} or 404 with {"found": false}. Any other
// answer, including a 404 without that body (a receiver that does not implement lookup),
// means tact cannot tell, and the post is left for a person to decide rather than sent
// twice.
//
// Delete (optional) is DELETE url?id=ID, signed over the raw query string; 2xx or 404
// mean gone.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

const (
	defaultTimeout = 10 * time.Second
	// maxMedia and maxMediaBytes bound what tact forwards: the bytes of each attachment
	// ride in the body. The receiver may refuse less with a 4xx.
	maxMedia      = 4
	maxMediaBytes = 8 << 20
	maxResponse   = 1 << 20
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body (or raw query).
	SignatureHeader = "X-Tact-Signature"
	// TimestampHeader carries the send time in Unix seconds.
	TimestampHeader = "X-Tact-Timestamp"
)

var settingKeys = []string{"url", "secret", "timeout"}

type config struct {
	url     *url.URL
	secret  []byte
	timeout time.Duration
}

// Network is one webhook receiver. Create it with New.
type Network struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
	cfg    atomic.Pointer[config]

	mu   sync.Mutex
	sent map[string]sdk.Receipt // keys this process published: a repeat is answered here
}

// Option changes how New builds a Network.
type Option func(*Network)

// WithHTTPClient sends requests through a copy of c that does not follow redirects.
func WithHTTPClient(c *http.Client) Option { return func(n *Network) { cp := *c; n.client = &cp } }

// WithClock makes the Network read the time from now (default time.Now).
func WithClock(now func() time.Time) Option { return func(n *Network) { n.now = now } }

// WithLogger logs through l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(n *Network) { n.log = l } }

// New returns an unconfigured webhook network.
func New(opts ...Option) *Network {
	n := &Network{client: &http.Client{}, now: time.Now, log: slog.Default(), sent: map[string]sdk.Receipt{}}
	for _, o := range opts {
		o(n)
	}
	// A redirected POST becomes a GET elsewhere: better to tell the admin.
	n.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return n
}

var _ sdk.Network = (*Network)(nil)

// Describe: no length limit of its own; media are forwarded as references.
func (n *Network) Describe(ctx context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name:          "webhook",
		Version:       Version,
		MaxLength:     0,
		Counting:      sdk.CountRunes,
		MaxMedia:      maxMedia,
		Capabilities:  []string{"lookup", "delete", "media"},
		SettingsKeys:  slices.Clone(settingKeys),
		SecretSetting: []string{"secret"},
	}, nil
}

// Configure checks the settings. It sends nothing: a receiver need not answer anything but
// publishes.
func (n *Network) Configure(ctx context.Context, settings map[string]string) error {
	if err := sdk.CheckSettingKeys("webhook", settings, settingKeys); err != nil {
		return err
	}
	u, err := url.Parse(strings.TrimSpace(settings["url"]))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// The value is shown as its scheme and host only: a url read from env: is a secret
		// (docs/operations.md, "Secrets"), and this message reaches the account's details.
		return sdk.Errorf(sdk.Permanent, "webhook: setting \"url\" (%s) is not an http:// or https:// URL with a host: set it to the receiver's URL", redact.SecretURL(settings["url"]))
	}
	u.RawQuery = u.Query().Encode() // a hand-written query ("?a=b c") becomes valid on the wire
	c := &config{url: u, secret: []byte(settings["secret"]), timeout: defaultTimeout}
	if len(c.secret) == 0 {
		return sdk.Errorf(sdk.Permanent, "webhook: setting \"secret\" is empty: share a random key with the receiver (e.g. openssl rand -hex 32) and set it (secret = \"env:TACT_WEBHOOK_SECRET\")")
	}
	if v := settings["timeout"]; v != "" {
		if c.timeout, err = time.ParseDuration(v); err != nil || c.timeout <= 0 {
			return sdk.Errorf(sdk.Permanent, "webhook: setting \"timeout\" is %q: use a positive Go duration such as \"10s\"", v)
		}
	}
	n.cfg.Store(c)
	return nil
}

// Validate: the receiver decides what it accepts; only a post with nothing in it, a link
// that is not a URL, or more or larger media than one body carries are refused here.
func (n *Network) Validate(ctx context.Context, p sdk.Post) ([]sdk.Problem, error) {
	var problems []sdk.Problem
	if strings.TrimSpace(p.Text) == "" && p.Link == "" && len(p.Media) == 0 {
		problems = append(problems, sdk.Problem{Field: "text", Message: "the post is empty"})
	}
	if p.Link != "" {
		if u, err := url.Parse(p.Link); err != nil || u.Scheme == "" || u.Host == "" {
			problems = append(problems, sdk.Problem{Field: "link", Message: fmt.Sprintf("%q is not an absolute URL", p.Link)})
		}
	}
	if len(p.Media) > maxMedia {
		problems = append(problems, sdk.Problem{Field: "media", Message: fmt.Sprintf("%d attachments; at most %d are forwarded", len(p.Media), maxMedia)})
	}
	for i, m := range p.Media {
		if p := sdk.MediaSizeProblem(i, m, maxMediaBytes, "a webhook"); p != nil {
			problems = append(problems, *p)
		}
	}
	return problems, nil
}

// Payload is the JSON body of a publish.
type Payload struct {
	IdempotencyKey string  `json:"idempotency_key"`
	Text           string  `json:"text"`
	Link           string  `json:"link,omitempty"`
	Media          []Media `json:"media"`
	Language       string  `json:"language,omitempty"`
	SentAt         string  `json:"sent_at"`
}

// Media is one attachment in a Payload, bytes included: the receiver needs nothing else
// from tact to publish it. ID is the hex SHA-256 of Data.
type Media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Size     int64  `json:"size"`
	Alt      string `json:"alt,omitempty"`
	Data     []byte `json:"data"` // base64 in the JSON
}

// Sign returns the X-Tact-Signature value for data (a body, or a raw query) and secret.
func Sign(secret, data []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(data)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is data's valid X-Tact-Signature under secret, in
// constant time. Receivers written in Go can call it.
func Verify(secret, data []byte, signature string) bool {
	return hmac.Equal([]byte(signature), []byte(Sign(secret, data)))
}

// answer is what a receiver may send back.
type answer struct {
	Found *bool  `json:"found"`
	ID    string `json:"id"`
	URL   string `json:"url"`
}

// Publish POSTs the signed payload.
func (n *Network) Publish(ctx context.Context, p sdk.Post, idempotencyKey string) (sdk.Receipt, error) {
	c := n.cfg.Load()
	if c == nil {
		return sdk.Receipt{}, errors.New("webhook: Publish called before Configure")
	}
	if idempotencyKey == "" {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "webhook: Publish called without an idempotency key")
	}
	n.mu.Lock()
	r, done := n.sent[idempotencyKey]
	n.mu.Unlock()
	if done {
		return r, nil
	}
	now := n.now().UTC()
	pl := Payload{IdempotencyKey: idempotencyKey, Text: p.Text, Link: p.Link, Language: p.Language,
		Media: []Media{}, SentAt: now.Format(time.RFC3339)}
	for _, m := range p.Media {
		data, err := sdk.MediaData(m, maxMediaBytes)
		if err != nil {
			return sdk.Receipt{}, err
		}
		pl.Media = append(pl.Media, Media{ID: m.ID, MimeType: m.MimeType, Size: int64(len(data)), Alt: m.Alt, Data: data})
	}
	body, err := json.Marshal(pl)
	if err != nil {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "webhook: encoding the post: %v", err)
	}
	var a answer
	if _, err := n.do(ctx, c, http.MethodPost, c.url.String(), body, body, now, idempotencyKey, &a); err != nil {
		return sdk.Receipt{}, err
	}
	r = sdk.Receipt{RemoteID: a.ID, URL: a.URL, PublishedAt: now}
	if r.RemoteID == "" {
		r.RemoteID = idempotencyKey
	}
	n.mu.Lock()
	n.sent[idempotencyKey] = r
	n.mu.Unlock()
	return r, nil
}

// Lookup asks the receiver, if it implements lookup, about idempotencyKey.
func (n *Network) Lookup(ctx context.Context, idempotencyKey string) (sdk.Receipt, bool, error) {
	c := n.cfg.Load()
	if c == nil {
		return sdk.Receipt{}, false, errors.New("webhook: Lookup called before Configure")
	}
	n.mu.Lock()
	r, done := n.sent[idempotencyKey]
	n.mu.Unlock()
	if done {
		return r, true, nil
	}
	u, raw := withQuery(c.url, "idempotency_key", idempotencyKey)
	var a answer
	code, err := n.do(ctx, c, http.MethodGet, u, nil, []byte(raw), n.now().UTC(), "", &a)
	switch {
	case err == nil && code == http.StatusOK && a.Found != nil && *a.Found:
		r := sdk.Receipt{RemoteID: a.ID, URL: a.URL}
		if r.RemoteID == "" {
			r.RemoteID = idempotencyKey
		}
		return r, true, nil
	case code == http.StatusNotFound && a.Found != nil && !*a.Found:
		return sdk.Receipt{}, false, nil
	case err != nil && code != http.StatusNotFound && code != http.StatusMethodNotAllowed && code != http.StatusNotImplemented:
		return sdk.Receipt{}, false, fmt.Errorf("webhook: cannot tell whether key %q was published: %w", idempotencyKey, err)
	}
	return sdk.Receipt{}, false, sdk.Errorf(sdk.Permanent,
		"webhook: cannot tell whether key %q was published: GET %s answered %d without {\"found\": true|false}; the receiver does not implement lookup (docs/webhook.md)",
		idempotencyKey, c.shown(), code)
}

// Delete asks the receiver, if it implements delete, to remove the post.
func (n *Network) Delete(ctx context.Context, remoteID string) error {
	c := n.cfg.Load()
	if c == nil {
		return errors.New("webhook: Delete called before Configure")
	}
	u, raw := withQuery(c.url, "id", remoteID)
	code, err := n.do(ctx, c, http.MethodDelete, u, nil, []byte(raw), n.now().UTC(), "", nil)
	switch {
	case code == http.StatusNotFound:
		return nil
	case code == http.StatusMethodNotAllowed || code == http.StatusNotImplemented:
		return sdk.Errorf(sdk.Permanent, "webhook: the receiver does not implement delete (DELETE %s answered %d): remove post %s there by hand", c.shown(), code, remoteID)
	}
	return err
}

// withQuery adds key=value to u's query and returns the URL and its raw query (what the
// signature covers).
func withQuery(u *url.URL, key, value string) (string, string) {
	cp := *u
	q := cp.RawQuery
	if q != "" {
		q += "&"
	}
	cp.RawQuery = q + url.QueryEscape(key) + "=" + url.QueryEscape(value)
	return cp.String(), cp.RawQuery
}

// do sends one signed request; signed is what the signature covers. A non-2xx answer is a
// typed error (and its body, if JSON, is still decoded into out for Lookup's 404).
func (n *Network) do(ctx context.Context, c *config, method, u string, body, signed []byte, now time.Time, key string, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, sdk.Errorf(sdk.Permanent, "webhook: building request: %v", err)
	}
	// net/http would resend a POST with an Idempotency-Key on its own after a broken
	// connection; a receiver that dedupes makes that harmless, one that does not would post
	// twice. Retrying is the daemon's decision.
	req.GetBody = nil
	req.Header.Set("User-Agent", "tact-plugin-webhook/"+Version)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	req.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(SignatureHeader, Sign(c.secret, signed))
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, sdk.Errorf(sdk.Retryable, "webhook: %s %s: %v", method, c.shown(), redact.Error(err, c.url.String()))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if out != nil && len(bytes.TrimSpace(data)) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		_ = json.Unmarshal(data, out) // an answer without JSON is fine: the key is the id
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		where := resp.Header.Get("Location")
		if loc, err := c.url.Parse(where); err == nil {
			where = loc.String() // a relative Location is shown absolute, so that it is redacted as a URL
		}
		return resp.StatusCode, sdk.Errorf(sdk.Permanent, "webhook: %s %s answered %d redirecting to %q: set url to the final address",
			method, c.shown(), resp.StatusCode, redact.Text(where, c.url.String()))
	}
	if err := sdk.HTTPError(resp.StatusCode, resp.Header, string(data), n.now()); err != nil {
		var e *sdk.Error
		if errors.As(err, &e) {
			// The receiver's answer may repeat its URL or key.
			e.Message = fmt.Sprintf("webhook: %s %s answered %s", method, c.shown(), redact.Text(e.Message, c.url.String()))
			if e.Kind == sdk.RateLimited && e.RetryAfter == 0 {
				e.RetryAfter = time.Minute
			}
		}
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

// shown is the receiver's URL as messages show it: scheme and host only. Receivers often
// carry their secret in the URL (a password, a ?key= query, or a path such as Slack's
// /services/T…/B…/TOKEN), and messages end up in logs, the API and the append-only audit log.
func (c *config) shown() string { return redact.SecretURL(c.url.String()) }

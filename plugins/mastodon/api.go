package mastodon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// maxResponse bounds what we read from a server answer: statuses and error bodies are small.
const maxResponse = 4 << 20

// call sends one request to the server and decodes a 2xx JSON answer into out (when out is
// not nil). Any other answer becomes a typed sdk error, so callers only pass errors on.
func (n *Network) call(ctx context.Context, method, path string, body io.Reader, contentType string, header http.Header, out any) (int, error) {
	if err := n.usable(); err != nil {
		return 0, err
	}
	n.mu.Lock()
	server, token := n.server, n.token
	n.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, method, server+path, body)
	if err != nil {
		return 0, sdk.Errorf(sdk.Permanent, "mastodon: building %s %s: %v", method, path, redact.Error(err, server))
	}
	// net/http silently resends a request carrying an Idempotency-Key header when a reused
	// connection breaks before the answer. On a server that ignores the header that is a
	// second post, and the journal would not know: a body that cannot be replayed stops it.
	req.GetBody = nil
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tact-plugin-mastodon/"+Version)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := n.client.Do(req)
	if err != nil {
		// Timeouts, refused connections, resets: the server may come back.
		// The server URL may carry a password (config/redact); net/http's error repeats it.
		return 0, sdk.Errorf(sdk.Retryable, "mastodon: %s %s%s: %v", method, redact.URL(server), path, redact.Error(err, server))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return resp.StatusCode, sdk.Errorf(sdk.Retryable, "mastodon: reading answer to %s %s: %v", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, n.statusError(method, path, resp, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, sdk.Errorf(sdk.Retryable, "mastodon: %s %s answered %d with JSON we cannot read: %v", method, path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode, nil
}

// usable says why the account's token cannot be used now (nil: it can): the account is
// not connected, or its token expired. Nothing is sent then: the posts wait (Auth) for a
// person to connect the account.
func (n *Network) usable() error {
	n.mu.Lock()
	token, expires := n.token, n.expires
	n.mu.Unlock()
	switch {
	case token == "":
		return sdk.Errorf(sdk.Auth, "mastodon: the account is not connected: connect it (tactctl account connect NAME, or the web UI's Accounts page), or set its token in tact.toml")
	case !expires.IsZero() && !n.now().Before(expires):
		return sdk.Errorf(sdk.Auth, "mastodon: the access token expired on %s: connect the account again", expires.UTC().Format("2 Jan 2006 15:04 MST"))
	}
	return nil
}

// statusError maps a non-2xx answer to the sdk's error kinds.
func (n *Network) statusError(method, path string, resp *http.Response, body []byte) error {
	msg := serverMessage(body)
	where := fmt.Sprintf("mastodon: %s %s answered %d", method, path, resp.StatusCode)
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return sdk.Errorf(sdk.Auth, "%s: %s: check the account's token (it needs the read and write scopes) and that the account is not suspended", where, msg)
	case code == http.StatusTooManyRequests:
		after := retryAfter(resp.Header, n.now())
		return sdk.RateLimit(after, "%s: %s", where, msg)
	case code >= 500:
		return sdk.Errorf(sdk.Retryable, "%s: %s", where, msg)
	case code == http.StatusRequestTimeout:
		return sdk.Errorf(sdk.Retryable, "%s: %s", where, msg)
	default:
		// 422 is Mastodon's refusal; GoToSocial and others answer 400 for the same thing.
		return sdk.Errorf(sdk.Permanent, "%s: %s", where, msg)
	}
}

// serverMessage extracts {"error": "...", "error_description": "..."} from a Mastodon error
// body, or a short excerpt of whatever else the server sent.
func serverMessage(body []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		if e.Description != "" && e.Description != e.Error {
			return e.Error + ": " + e.Description
		}
		return e.Error
	}
	if s := sdk.Excerpt(string(body), 200); s != "" {
		return s
	}
	return "no error message"
}

// retryAfter reads how long a 429 asks us to wait: Mastodon's X-RateLimit-Reset (an ISO 8601
// time), else Retry-After (seconds or an HTTP date). Without either, a minute.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00"} {
			if t, err := time.Parse(layout, v); err == nil {
				return sdk.WaitUntil(t, now)
			}
		}
	}
	return sdk.RateLimitWait(h, now, time.Minute)
}

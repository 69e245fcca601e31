package x

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// maxResponse bounds what is read of an answer: X's answers and error bodies are small.
const maxResponse = 4 << 20

// rateLimitFallback is the wait after a 429 that says nothing of its reset: X's windows
// are 15 minutes.
const rateLimitFallback = 15 * time.Minute

// api is one way of calling X: a base URL and the token to send.
type api struct {
	client *http.Client
	base   string
	token  string
	now    func() time.Time
}

// do sends one request and decodes a 2xx JSON answer into out (when out is not nil). Any
// other answer becomes a typed sdk error, so callers only pass errors on.
func (a api) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return 0, sdk.Errorf(sdk.Permanent, "x: building %s %s: %v", method, path, redact.Error(err, a.base))
	}
	// X takes no idempotency key, and net/http silently resends a request whose reused
	// connection broke before the answer: that could post twice behind the journal's back.
	// A body that cannot be replayed stops it.
	req.GetBody = nil
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tact-plugin-x/"+Version)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		// Timeouts, refused connections, resets: X may come back. net/http repeats the
		// URL, which may carry a secret (config/redact).
		return 0, sdk.Errorf(sdk.Retryable, "x: %s %s%s: %v", method, redact.URL(a.base), path, redact.Error(err, a.base))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return resp.StatusCode, sdk.Errorf(sdk.Retryable, "x: reading the answer to %s %s: %v", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, statusError(method, path, resp.StatusCode, resp.Header, data, a.now())
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, sdk.Errorf(sdk.Retryable, "x: %s %s answered %d with JSON that cannot be read: %v", method, path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode, nil
}

func (a api) getJSON(ctx context.Context, path string, out any) (int, error) {
	return a.do(ctx, http.MethodGet, path, nil, "", out)
}

func (a api) postJSON(ctx context.Context, path string, in, out any) (int, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return 0, sdk.Errorf(sdk.Permanent, "x: encoding %s: %v", path, err)
	}
	return a.do(ctx, http.MethodPost, path, bytes.NewReader(body), "application/json", out)
}

// xProblem is X's error body: RFC 7807 problem details, with the older {"errors":
// [{"message"}]} inside or alone.
type xProblem struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Type   string `json:"type"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// message is what X said, or an excerpt of whatever else came.
func (p xProblem) message(body []byte) string {
	var parts []string
	if p.Detail != "" {
		parts = append(parts, p.Detail)
	} else if p.Title != "" {
		parts = append(parts, p.Title)
	}
	for _, e := range p.Errors {
		if e.Message != "" && !strings.Contains(p.Detail, e.Message) {
			parts = append(parts, e.Message)
		}
	}
	if len(parts) == 0 {
		if s := sdk.Excerpt(string(body), 200); s != "" {
			return s
		}
		return "no error message"
	}
	return sdk.Excerpt(strings.Join(parts, ": "), 400)
}

func parseProblem(body []byte) xProblem {
	var p xProblem
	_ = json.Unmarshal(body, &p)
	return p
}

// statusError maps a failed answer of X's API to the sdk's error kinds (docs/plugins.md,
// "X"): 401 is auth, 403 permanent with X's reason, 429 rate limited until
// x-rate-limit-reset, 5xx and 408 retryable, other 4xx permanent.
func statusError(method, path string, status int, h http.Header, body []byte, now time.Time) error {
	p := parseProblem(body)
	where := fmt.Sprintf("x: %s %s answered %d: %s", method, path, status, p.message(body))
	switch {
	case status == http.StatusUnauthorized:
		return sdk.Errorf(sdk.Auth, "%s: X refused the access token (expired or revoked): connect the account again (tactctl account connect)", where)
	case status == http.StatusForbidden && strings.Contains(p.Type, "client-forbidden"):
		return sdk.Errorf(sdk.Permanent, "%s: the X app is not allowed this endpoint: in X's developer console, attach the app to a project with API access", where)
	case status == http.StatusForbidden && strings.Contains(strings.ToLower(p.Detail), "not permitted"):
		return sdk.Errorf(sdk.Permanent, "%s: the account's token lacks a scope the plugin needs (tweet.read tweet.write users.read offline.access media.write), or the X account is locked or suspended: connect the account again, or check it on X", where)
	case status == http.StatusTooManyRequests:
		return sdk.RateLimit(rateLimitWait(h, now), "%s", where)
	case status == http.StatusRequestTimeout || status >= 500:
		return sdk.Errorf(sdk.Retryable, "%s", where)
	default:
		return sdk.Errorf(sdk.Permanent, "%s", where)
	}
}

// rateLimitWait reads how long a 429 asks to wait: until x-rate-limit-reset (epoch
// seconds) of the endpoint's window, or until the reset of a 24-hour limit X reports as
// spent (x-user-limit-24hour-* and x-app-limit-24hour-*, sent on POST /2/tweets), whichever
// is later; without any, Retry-After or 15 minutes.
func rateLimitWait(h http.Header, now time.Time) time.Duration {
	var reset time.Time
	consider := func(prefix string, always bool) {
		if !always && h.Get(prefix+"-remaining") != "0" {
			return
		}
		if secs, err := strconv.ParseInt(strings.TrimSpace(h.Get(prefix+"-reset")), 10, 64); err == nil {
			if t := time.Unix(secs, 0); t.After(reset) {
				reset = t
			}
		}
	}
	consider("x-rate-limit", true)
	consider("x-user-limit-24hour", false)
	consider("x-app-limit-24hour", false)
	if reset.IsZero() {
		return sdk.RateLimitWait(h, now, rateLimitFallback)
	}
	return sdk.WaitUntil(reset, now)
}

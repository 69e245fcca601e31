package micropub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

const maxResponse = 4 << 20

// get queries the Micropub endpoint (GET ?q=…) and decodes the JSON answer into out.
func (n *Network) get(ctx context.Context, c *config, q url.Values, out any) error {
	u, _ := url.Parse(c.endpoint)
	params := u.Query()
	for k, v := range q {
		params[k] = v
	}
	u.RawQuery = params.Encode()
	_, body, err := n.do(ctx, c, http.MethodGet, u.String(), "GET ?q="+q.Get("q"), nil, "")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return sdk.Errorf(sdk.Permanent, "micropub: q=%s on %s answered something other than JSON (%s)", q.Get("q"), redact.SecretURL(c.endpoint), sdk.Excerpt(string(body), 100))
	}
	return nil
}

// do sends one request with the bearer token and types a failure. It returns the answer's
// headers and body for a 2xx.
func (n *Network) do(ctx context.Context, c *config, method, target, where string, body []byte, ctype string) (http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, nil, sdk.Errorf(sdk.Permanent, "micropub: building %s: %v", where, redact.Error(err, target))
	}
	// A create must never be sent twice by net/http on its own: only the journal decides.
	req.GetBody = nil
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, nil, sdk.Errorf(sdk.Retryable, "micropub: %s on %s: %v", where, redact.SecretURL(target), redact.Error(err, target))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, nil, sdk.Errorf(sdk.Retryable, "micropub: reading the answer to %s: %v", where, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Header, data, n.apiError(where, target, resp, data)
	}
	return resp.Header, data, nil
}

// apiError types a refusal as the Recommendation's error responses mean it
// ({"error":"…","error_description":"…"}): 401 unauthorized and 403 forbidden or
// insufficient_scope are Auth (every post would fail alike); 400 invalid_request and other
// 4xx Permanent; 429 RateLimited after Retry-After (a minute without one); 408 and 5xx
// Retryable.
func (n *Network) apiError(where, target string, resp *http.Response, data []byte) error {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	said := sdk.Excerpt(string(data), 200)
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		said = e.Error
		if e.Description != "" {
			said += ": " + sdk.Excerpt(e.Description, 300)
		}
	}
	if said == "" {
		said = http.StatusText(resp.StatusCode)
	}
	msg := fmt.Sprintf("micropub: %s on %s answered %d: %s", where, redact.SecretURL(target), resp.StatusCode, said)
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized:
		return sdk.Errorf(sdk.Auth, "%s: the site does not take the token (expired or revoked): get a new one from its token endpoint and set token", msg)
	case s == http.StatusForbidden:
		hint := "the token may not do this"
		if e.Error == "insufficient_scope" || strings.Contains(said, "scope") {
			hint = "the token lacks a scope this needs (create to post, media to upload, delete to delete)"
		}
		return sdk.Errorf(sdk.Auth, "%s: %s: get a token with it and set token", msg, hint)
	case s == http.StatusTooManyRequests:
		return sdk.RateLimit(sdk.RateLimitWait(resp.Header, n.now(), time.Minute), "%s", msg)
	case s == http.StatusRequestTimeout || s >= 500:
		return sdk.Errorf(sdk.Retryable, "%s", msg)
	default:
		return sdk.Errorf(sdk.Permanent, "%s", msg)
	}
}

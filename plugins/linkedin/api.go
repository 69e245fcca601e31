package linkedin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// maxResponse bounds what is read of an answer: posts, images and error bodies are small.
const maxResponse = 4 << 20

// request is one call to LinkedIn's REST API (under api_url) or its OAuth endpoints
// (under oauth_url).
type request struct {
	method string
	url    string // absolute
	body   []byte
	ctype  string
	header http.Header
	bearer string // sent as Authorization unless empty
	out    any    // a 2xx JSON answer is decoded into it
}

// answer is what came back from a 2xx call.
type answer struct {
	status int
	header http.Header
}

// do sends r and types any failure: a transport error is Retryable, a non-2xx answer
// is typed by apiError. where names the call in messages ("POST /rest/posts").
func (n *Network) do(ctx context.Context, where string, r request) (answer, *apiFailure, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return answer{}, nil, sdk.Errorf(sdk.Permanent, "linkedin: building %s: %v", where, redact.Error(err, r.url))
	}
	// A create must never be sent twice by net/http on its own: LinkedIn takes no
	// idempotency key, so only the journal may decide to send again.
	req.GetBody = nil
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tact-plugin-linkedin/"+Version)
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	resp, err := n.client.Do(req)
	if err != nil {
		// Timeouts, resets, refused connections: LinkedIn may come back. The URL may carry
		// an upload signature; net/http's error repeats it.
		return answer{}, nil, sdk.Errorf(sdk.Retryable, "linkedin: %s: %v", where, redact.Error(err, r.url))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return answer{}, nil, sdk.Errorf(sdk.Retryable, "linkedin: reading the answer to %s: %v", where, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		f := parseFailure(resp.StatusCode, resp.Header, data)
		return answer{status: resp.StatusCode, header: resp.Header}, f, n.apiError(where, f)
	}
	if r.out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, r.out); err != nil {
			return answer{}, nil, sdk.Errorf(sdk.Retryable, "linkedin: %s answered %d with JSON tact cannot read: %v", where, resp.StatusCode, err)
		}
	}
	return answer{status: resp.StatusCode, header: resp.Header}, nil, nil
}

// rest calls the versioned REST API: path is under api_url ("/rest/posts").
func (n *Network) rest(ctx context.Context, c *config, method, path string, body any, restliMethod string, out any) (answer, *apiFailure, error) {
	r := request{method: method, url: c.apiURL + path, bearer: c.token, out: out, header: http.Header{
		"Linkedin-Version":          {c.version},
		"X-Restli-Protocol-Version": {"2.0.0"},
	}}
	if restliMethod != "" {
		r.header.Set("X-Restli-Method", restliMethod)
	}
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return answer{}, nil, sdk.Errorf(sdk.Permanent, "linkedin: encoding %s %s: %v", method, path, err)
		}
		r.body, r.ctype = data, "application/json"
	}
	return n.do(ctx, method+" "+strings.SplitN(path, "?", 2)[0], r)
}

// apiFailure is a non-2xx answer: LinkedIn's Rest.li error body
// ({"status":422,"code":"…","serviceErrorCode":…,"message":"…","errorDetails":{…}}) or,
// from the OAuth endpoints, {"error":"…","error_description":"…"}.
type apiFailure struct {
	status int
	header http.Header
	body   struct {
		Code             string `json:"code"`
		ServiceErrorCode int    `json:"serviceErrorCode"`
		Message          string `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		ErrorDetails     struct {
			InputErrors []struct {
				Code        string `json:"code"`
				Description string `json:"description"`
				Input       struct {
					InputPath struct {
						FieldPath string `json:"fieldPath"`
					} `json:"inputPath"`
				} `json:"input"`
			} `json:"inputErrors"`
		} `json:"errorDetails"`
	}
	raw string
}

func parseFailure(status int, h http.Header, data []byte) *apiFailure {
	f := &apiFailure{status: status, header: h, raw: sdk.Excerpt(string(data), 300)}
	_ = json.Unmarshal(data, &f.body)
	return f
}

// hasCode reports whether LinkedIn named code, in the body or one of its input errors.
func (f *apiFailure) hasCode(code string) bool {
	if f == nil {
		return false
	}
	if f.body.Code == code {
		return true
	}
	for _, e := range f.body.ErrorDetails.InputErrors {
		if e.Code == code {
			return true
		}
	}
	return false
}

// message is what LinkedIn said, for a person: the message, the OAuth error, and each
// input error with the field it is about.
func (f *apiFailure) message() string {
	var parts []string
	b := f.body
	switch {
	case b.Message != "":
		msg := b.Message
		// Java exception names add nothing for a person.
		if i := strings.LastIndex(msg, "Exception: "); i >= 0 {
			msg = msg[i+len("Exception: "):]
		}
		if b.Code != "" {
			msg = b.Code + ": " + msg
		}
		parts = append(parts, msg)
	case b.Error != "":
		msg := b.Error
		if b.ErrorDescription != "" {
			msg += ": " + b.ErrorDescription
		}
		parts = append(parts, msg)
	case f.raw != "":
		parts = append(parts, f.raw)
	default:
		parts = append(parts, "no error message")
	}
	for _, e := range b.ErrorDetails.InputErrors {
		s := e.Description
		if p := e.Input.InputPath.FieldPath; p != "" {
			s = p + ": " + s
		}
		if s != "" && !strings.Contains(parts[0], s) {
			parts = append(parts, s)
		}
	}
	return sdk.Excerpt(strings.Join(parts, "; "), 500)
}

// apiError types a failed answer the way LinkedIn means it (docs/plugins.md, "LinkedIn"):
//   - 401: the token is invalid, expired or revoked: Auth;
//   - 403: missing permission or page role (ACCESS_DENIED, "Not enough permissions"):
//     Auth, since every post of the account would fail alike; any other 403 is about
//     this request: Permanent;
//   - 426: the pinned LinkedIn-Version is no longer served: Auth, so the account's
//     posts wait for a person to set linkedin_version instead of failing one by one;
//   - 429: RateLimited (Retry-After, else until the daily quota resets, at most an hour);
//   - 408, 5xx: Retryable; any other 4xx (400, 404, 422): Permanent with the message.
func (n *Network) apiError(where string, f *apiFailure) error {
	msg := fmt.Sprintf("linkedin: %s answered %d: %s", where, f.status, f.message())
	switch code := f.status; {
	case code == http.StatusUnauthorized:
		return sdk.Errorf(sdk.Auth, "%s: the access token is not valid (expired or revoked): connect the account again (tactctl account connect)", msg)
	case code == http.StatusForbidden && f.isPermissionDenied():
		return sdk.Errorf(sdk.Auth, "%s: the token lacks a permission this needs (w_member_social to post as a member; w_organization_social and a page role of administrator or content admin to post as an organization): connect the account again with those scopes", msg)
	case code == http.StatusUpgradeRequired:
		return sdk.Errorf(sdk.Auth, "%s: LinkedIn no longer serves API version %s: set the account's linkedin_version to a current YYYYMM (see LinkedIn's API versioning page)", msg, n.cfg().version)
	case code == http.StatusTooManyRequests:
		return sdk.RateLimit(rateLimitWait(f.header, n.now()), "%s", msg)
	case code == http.StatusRequestTimeout || code >= 500:
		return sdk.Errorf(sdk.Retryable, "%s", msg)
	default:
		return sdk.Errorf(sdk.Permanent, "%s", msg)
	}
}

func (f *apiFailure) isPermissionDenied() bool {
	return f.body.Code == "ACCESS_DENIED" || f.body.ServiceErrorCode == 100 ||
		strings.Contains(strings.ToLower(f.body.Message), "permission")
}

// rateLimitWait is how long a 429 asks to wait. LinkedIn's throttles are daily quotas
// that reset at midnight UTC, and its 429 carries no Retry-After as a rule: without one,
// wait until midnight UTC but no more than an hour, since a short burst throttle lifts
// sooner and a retry that is refused again costs one request.
func rateLimitWait(h http.Header, now time.Time) time.Duration {
	u := now.UTC()
	midnight := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
	return sdk.RateLimitWait(h, now, min(midnight.Sub(u), time.Hour))
}

// duplicateOf is the post LinkedIn says the refused one repeats ("Content is a duplicate
// of urn:li:share:…", code DUPLICATE_POST), or "".
func (f *apiFailure) duplicateOf() string {
	if f == nil || f.status != http.StatusUnprocessableEntity || !f.hasCode("DUPLICATE_POST") && !strings.Contains(f.body.Message, "duplicate") {
		return ""
	}
	return postURN.FindString(f.body.Message)
}

var postURN = regexp.MustCompile(`urn:li:(share|ugcPost):[0-9]+`)

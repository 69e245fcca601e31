package facebook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// maxResponse bounds what is read of an answer: posts, tokens and error bodies are small.
const maxResponse = 4 << 20

// rateLimitFallback is how long to wait on a rate limit whose answer says nothing of
// when it ends. Platform limits count over a rolling hour, Page limits over 24 hours;
// usage falls as the window moves, so a retry a little later is likely to pass.
const rateLimitFallback = 10 * time.Minute

// call is one Graph API request.
type call struct {
	method string
	url    string // absolute
	body   []byte
	ctype  string
	token  string // sent as a bearer token unless empty
	where  string // "POST /{page-id}/feed", for messages: never the URL, whose query may hold secrets
}

// graph calls path under the pinned version with token: params go in the query (GET,
// DELETE) or a form body (POST). With the app secret known, every call carries
// appsecret_proof, which apps with "Require App Secret" on must send.
func (n *Network) graph(ctx context.Context, c *config, token, method, path string, params url.Values, out any) (*failure, error) {
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	if token != "" && c.clientSecret != "" {
		q.Set("appsecret_proof", appSecretProof(c.clientSecret, token))
	}
	r := call{method: method, url: c.graphURL + "/" + c.version + path, token: token, where: method + " " + path}
	if method == http.MethodPost {
		r.body, r.ctype = []byte(q.Encode()), "application/x-www-form-urlencoded"
	} else if len(q) > 0 {
		r.url += "?" + q.Encode()
	}
	return n.do(ctx, r, out)
}

// upload is a multipart POST to path with fields and one file (Facebook's source).
func (n *Network) upload(ctx context.Context, c *config, path string, fields url.Values, file []byte, fileName, fileType string, out any) (*failure, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if c.clientSecret != "" {
		fields.Set("appsecret_proof", appSecretProof(c.clientSecret, c.token))
	}
	for k, vs := range fields {
		for _, v := range vs {
			if err := w.WriteField(k, v); err != nil {
				return nil, sdk.Errorf(sdk.Permanent, "facebook: building the photo upload: %v", err)
			}
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="source"; filename=%q`, fileName))
	h.Set("Content-Type", fileType)
	part, err := w.CreatePart(h)
	if err == nil {
		_, err = part.Write(file)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return nil, sdk.Errorf(sdk.Permanent, "facebook: building the photo upload: %v", err)
	}
	return n.do(ctx, call{method: http.MethodPost, url: c.graphURL + "/" + c.version + path, body: b.Bytes(),
		ctype: w.FormDataContentType(), token: c.token, where: "POST " + path}, out)
}

// appSecretProof is the HMAC-SHA256 of token keyed by the app secret, in hex.
func appSecretProof(secret, token string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token))
	return hex.EncodeToString(mac.Sum(nil))
}

// do sends r and types any failure: a transport error is Retryable, an error answer is
// typed by graphError.
func (n *Network) do(ctx context.Context, r call, out any) (*failure, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, sdk.Errorf(sdk.Permanent, "facebook: building %s: %v", r.where, redact.Error(err, r.url))
	}
	// A post must never be sent twice by net/http on its own: the Graph API takes no
	// idempotency key, so only the journal may decide to send again.
	req.GetBody = nil
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tact-plugin-facebook/"+Version)
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		// Timeouts, resets, refused connections: Facebook may come back. The URL may carry
		// the app secret (the token endpoint takes it in the query): net/http repeats it.
		return nil, sdk.Errorf(sdk.Retryable, "facebook: %s: %v", r.where, redact.Error(err, r.url))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, sdk.Errorf(sdk.Retryable, "facebook: reading the answer to %s: %v", r.where, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		f := parseFailure(resp.StatusCode, resp.Header, data)
		return f, n.graphError(r.where, f)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, sdk.Errorf(sdk.Retryable, "facebook: %s answered %d with JSON tact cannot read: %v", r.where, resp.StatusCode, err)
		}
	}
	return nil, nil
}

// graphErr is the "error" object of a Graph API error answer.
type graphErr struct {
	Message     string `json:"message"`
	Type        string `json:"type"`
	Code        int    `json:"code"`
	Subcode     int    `json:"error_subcode"`
	IsTransient bool   `json:"is_transient"`
	UserTitle   string `json:"error_user_title"`
	UserMsg     string `json:"error_user_msg"`
	TraceID     string `json:"fbtrace_id"`
}

// failure is an error answer.
type failure struct {
	status int
	header http.Header
	err    graphErr
	raw    string
}

func parseFailure(status int, h http.Header, data []byte) *failure {
	f := &failure{status: status, header: h, raw: sdk.Excerpt(string(data), 300)}
	var body struct {
		Error graphErr `json:"error"`
	}
	if json.Unmarshal(data, &body) == nil {
		f.err = body.Error
	}
	return f
}

// is reports whether Facebook answered code (and subcode, unless 0).
func (f *failure) is(code, subcode int) bool {
	return f != nil && f.err.Code == code && (subcode == 0 || f.err.Subcode == subcode)
}

// message is what Facebook said, for a person: its message for users when it gave one,
// its own message, and the codes (with fbtrace_id, which Meta's support asks for).
func (f *failure) message() string {
	e := f.err
	var parts []string
	if e.UserMsg != "" {
		msg := e.UserMsg
		if e.UserTitle != "" {
			msg = e.UserTitle + ": " + msg
		}
		parts = append(parts, msg)
	}
	switch {
	case e.Message != "":
		parts = append(parts, e.Message)
	case e.Code == 0 && f.raw != "":
		parts = append(parts, f.raw)
	case e.Code == 0:
		parts = append(parts, "no error message")
	}
	msg := strings.Join(parts, " — ")
	if e.Code != 0 {
		ids := fmt.Sprintf("code %d", e.Code)
		if e.Subcode != 0 {
			ids += fmt.Sprintf(", subcode %d", e.Subcode)
		}
		if e.TraceID != "" {
			ids += ", fbtrace_id " + e.TraceID
		}
		msg += " (" + ids + ")"
	}
	return sdk.Excerpt(msg, 600)
}

// tokenProblems say, for the subcodes of error 190, why Facebook no longer takes a token.
var tokenProblems = map[int]string{
	458: "the person who connected removed the app from their Facebook settings",
	459: "Facebook has locked the person's account until they log in to facebook.com and follow its steps",
	460: "the person who connected changed their Facebook password, or Facebook ended the session for security",
	463: "the token has expired",
	464: "the person's Facebook account is not confirmed",
	467: "the token is no longer valid (the person logged out, or Facebook invalidated it)",
	492: "the session is no longer valid (often: the person lost their role on the Page)",
}

// rateLimitCodes are Facebook's throttling errors: 4 (the app), 17 (the user), 32 (the
// Page), 341 (the app's limit), 613 (a custom limit), 80001 (the Page's Business Use
// Case limit).
var rateLimitCodes = map[int]bool{4: true, 17: true, 32: true, 341: true, 613: true, 80001: true}

// graphError types a failed answer the way Facebook means it (docs/networks/facebook.md,
// "Errors"). The code in the body decides, not the HTTP status: Facebook answers most
// errors with 400.
//   - is_transient, 1 (unknown), 2 (service): Retryable;
//   - 190 (the token is invalid, expired or revoked) and 102 (session): Auth;
//   - 10, 3 and 200-299 (a permission not granted or removed, or no task on the Page),
//     100/33 on the Page (no such Page, or not visible to the token), and a missing or
//     wrong appsecret_proof: Auth, since every post of the account would fail alike;
//   - 4, 17, 32, 341, 613, 80001: RateLimited, waiting what the usage headers estimate;
//   - 368 (blocked for a policy violation): Permanent. Facebook says to wait and retry,
//     but the block is about what is being posted: sending it again will not help and may
//     lengthen the block, so a person decides;
//   - 506 (a duplicate of the Page's last post), 324 (not an image), 1609005 (a link
//     Facebook cannot post), other 100s and the rest: Permanent, with Facebook's message;
//   - no Graph error body: by the HTTP status (sdk.HTTPError's reading).
func (n *Network) graphError(where string, f *failure) error {
	msg := fmt.Sprintf("facebook: %s answered %d: %s", where, f.status, f.message())
	e := f.err
	switch {
	case e.Code == 0:
		if err := sdk.HTTPError(f.status, f.header, "", n.now()); sdk.KindOf(err) == sdk.RateLimited {
			return sdk.RateLimit(rateLimitWait(f.header, n.cfg().pageID, n.now()), "%s", msg)
		} else if k := sdk.KindOf(err); k != "" {
			return sdk.Errorf(k, "%s", msg)
		}
		return sdk.Errorf(sdk.Retryable, "%s", msg)
	case e.IsTransient || e.Code == 1 || e.Code == 2:
		return sdk.Errorf(sdk.Retryable, "%s", msg)
	case e.Code == 190 || e.Code == 102:
		why := tokenProblems[e.Subcode]
		if why == "" {
			why = "the access token is not valid (expired, revoked or malformed)"
		}
		return sdk.Errorf(sdk.Auth, "%s: %s: connect the account again (tactctl account connect)", msg, why)
	case rateLimitCodes[e.Code]:
		return sdk.RateLimit(rateLimitWait(f.header, n.cfg().pageID, n.now()), "%s", msg)
	case e.Code == 10 || e.Code == 3 || e.Code >= 200 && e.Code <= 299:
		return sdk.Errorf(sdk.Auth, "%s: the token lacks a permission posting needs (pages_manage_posts, pages_read_engagement, pages_show_list), or the person who connected cannot create content on the Page: give them that task in the Page's settings and connect the account again", msg)
	case e.Code == 100 && e.Subcode == 33 && !strings.HasPrefix(where, http.MethodDelete):
		return sdk.Errorf(sdk.Auth, "%s: Facebook does not show this Page to the token: check page_id, and that the person who connected still manages the Page", msg)
	case e.Code == 100 && strings.Contains(e.Message, "appsecret_proof"):
		return sdk.Errorf(sdk.Auth, "%s: the app requires app secret proofs: set client_secret to the app's secret (Settings > Basic on developers.facebook.com)", msg)
	case e.Code == 368:
		return sdk.Errorf(sdk.Permanent, "%s: Facebook blocked this as going against its policies; sending it again would not help and may lengthen the block: review the post, and the Page's status in Meta Business Suite", msg)
	case e.Code == 506:
		return sdk.Errorf(sdk.Permanent, "%s: Facebook does not take the same text twice in a row on a Page: change the text", msg)
	case f.status >= 500:
		return sdk.Errorf(sdk.Retryable, "%s", msg)
	default:
		return sdk.Errorf(sdk.Permanent, "%s", msg)
	}
}

// usage is one entry of Facebook's usage headers; the counts are percentages of the
// limit, estimated_time_to_regain_access minutes.
type usage struct {
	CallCount    int `json:"call_count"`
	TotalCPUTime int `json:"total_cputime"`
	TotalTime    int `json:"total_time"`
	RegainAccess int `json:"estimated_time_to_regain_access"`
}

// rateLimitWait is how long a throttled answer asks to wait: the longest
// estimated_time_to_regain_access of X-Business-Use-Case-Usage (the Page's entries when it
// has any), X-Page-Usage or X-App-Usage; else Retry-After; else rateLimitFallback.
func rateLimitWait(h http.Header, pageID string, now time.Time) time.Duration {
	minutes := 0
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var buc map[string][]usage
		if json.Unmarshal([]byte(v), &buc) == nil {
			entries := buc[pageID]
			if len(entries) == 0 {
				for _, e := range buc {
					entries = append(entries, e...)
				}
			}
			for _, e := range entries {
				minutes = max(minutes, e.RegainAccess)
			}
		}
	}
	for _, name := range []string{"X-Page-Usage", "X-App-Usage"} {
		var u usage
		if v := h.Get(name); v != "" && json.Unmarshal([]byte(v), &u) == nil {
			minutes = max(minutes, u.RegainAccess)
		}
	}
	if minutes > 0 {
		return time.Duration(minutes) * time.Minute
	}
	return sdk.RateLimitWait(h, now, rateLimitFallback)
}

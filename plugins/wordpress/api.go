package wordpress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// maxResponse bounds what is read of an answer: posts, terms and error bodies are small.
const maxResponse = 4 << 20

// endpoint is the URL of route ("/wp/v2/posts") under the REST root, with query q. A root
// advertised as ?rest_route=/ (a site without pretty permalinks) takes the route in that
// parameter.
func endpoint(root *url.URL, route string, q url.Values) string {
	u := *root
	params := u.Query()
	for k, v := range q {
		params[k] = v
	}
	if params.Has("rest_route") {
		params.Set("rest_route", strings.TrimRight(params.Get("rest_route"), "/")+route)
	} else {
		u.Path = strings.TrimRight(u.Path, "/") + route
		u.RawPath = ""
	}
	u.RawQuery = params.Encode()
	return u.String()
}

// call sends a JSON request to route and decodes a 2xx answer into out.
func (n *Network) call(ctx context.Context, c *config, method, route string, q url.Values, body, out any) error {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return sdk.Errorf(sdk.Permanent, "wordpress: encoding %s %s: %v", method, route, err)
		}
	}
	return n.send(ctx, c, method, route, q, data, "application/json", nil, out)
}

// send is call with a raw body of type ctype and extra headers (media uploads).
func (n *Network) send(ctx context.Context, c *config, method, route string, q url.Values, body []byte, ctype string, header http.Header, out any) error {
	where := method + " " + route
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	target := endpoint(c.root, route, q)
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return sdk.Errorf(sdk.Permanent, "wordpress: building %s: %v", where, redact.Error(err, target))
	}
	// A create must never be sent twice by net/http on its own: only the look-up by slug
	// may decide to send again.
	req.GetBody = nil
	req.SetBasicAuth(c.user, c.pass)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return sdk.Errorf(sdk.Retryable, "wordpress: %s on %s: %v", where, c.site, redact.Error(err, target))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return sdk.Errorf(sdk.Retryable, "wordpress: reading the answer to %s from %s: %v", where, c.site, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return n.apiError(c, where, parseFailure(resp.StatusCode, resp.Header, raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			// A 200 that is not JSON is most often the blog's home page: the REST root is
			// wrong, or a security plugin answers in its place.
			return sdk.Errorf(sdk.Retryable, "wordpress: %s on %s answered %d with something other than the REST API's JSON (%s): check that site is the WordPress address and that no plugin blocks the REST API",
				where, c.site, resp.StatusCode, sdk.Excerpt(string(raw), 120))
		}
	}
	return nil
}

// Failure is a refused request: WordPress's WP_Error as JSON,
// {"code":"rest_…","message":"…","data":{"status":400,"params":{…}}}, or whatever else
// answered (a proxy, a firewall plugin), in Raw.
type Failure struct {
	Status  int
	Header  http.Header
	Code    string `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Status int            `json:"status"`
		Params map[string]any `json:"params"`
		TermID int            `json:"term_id"`
	} `json:"data"`
	Raw string
	err error
}

func (f *Failure) Error() string { return f.err.Error() }
func (f *Failure) Unwrap() error { return f.err }

func (f *Failure) termID() int { return f.Data.TermID }

func parseFailure(status int, h http.Header, raw []byte) *Failure {
	f := &Failure{Status: status, Header: h, Raw: sdk.Excerpt(string(raw), 300)}
	if json.Unmarshal(raw, f) != nil {
		// Not WordPress's JSON: a proxy's or a firewall plugin's page, kept in Raw.
		f.Code, f.Message = "", ""
	}
	return f
}

// failureOf is the Failure in err's chain, or nil.
func failureOf(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return nil
}

// said is what WordPress said: code, message and the parameters it named.
func (f *Failure) said() string {
	if f.Code == "" {
		if f.Raw == "" {
			return "no error message"
		}
		return f.Raw
	}
	s := f.Code + ": " + f.Message
	keys := make([]string, 0, len(f.Data.Params))
	for k := range f.Data.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if p := fmt.Sprint(f.Data.Params[k]); !strings.Contains(s, p) {
			s += "; " + k + ": " + p
		}
	}
	return sdk.Excerpt(s, 500)
}

// apiError types a refusal the way WordPress means it (docs/networks/wordpress.md, "What
// the plugin does on each error"):
//   - 401 (rest_cannot_create, rest_not_logged_in, incorrect_password, invalid_username):
//     the Application Password is not taken: Auth;
//   - 403 (rest_cannot_publish, rest_cannot_create, rest_forbidden…): the user's role may
//     not do this: Auth, since every post of the account would fail alike;
//   - 429 (a host's or a security plugin's limit; WordPress has none of its own):
//     RateLimited after Retry-After, else a minute;
//   - 408 and 5xx: Retryable, except the upload refusals WordPress sends as 500
//     (rest_upload_sideload_error: a file type the site does not allow, …): Permanent;
//   - 404 rest_no_route: the REST API is not where the site says: Permanent, with a hint;
//   - any other 4xx (400 rest_invalid_param, empty_content, 413 …): Permanent.
func (n *Network) apiError(c *config, where string, f *Failure) error {
	msg := fmt.Sprintf("wordpress: %s on %s answered %d: %s", where, c.site, f.Status, f.said())
	var err error
	switch s := f.Status; {
	case s == http.StatusUnauthorized:
		err = sdk.Errorf(sdk.Auth, "%s: WordPress does not take the Application Password of user %q: check user, or create a new password under Users → Profile → Application Passwords and set app_password", msg, c.user)
	case s == http.StatusForbidden:
		err = sdk.Errorf(sdk.Auth, "%s: user %q may not do this: give the user the Author role or higher (Editor to create categories), or check that no security plugin blocks the REST API", msg, c.user)
	case s == http.StatusTooManyRequests:
		err = sdk.RateLimit(sdk.RateLimitWait(f.Header, n.now(), time.Minute), "%s", msg)
	case strings.HasPrefix(f.Code, "rest_upload_") && s >= 500:
		err = sdk.Errorf(sdk.Permanent, "%s: the blog refused the file; it will refuse it again", msg)
	case s == http.StatusRequestTimeout || s >= 500:
		err = sdk.Errorf(sdk.Retryable, "%s", msg)
	case s == http.StatusNotFound && f.Code == "rest_no_route":
		err = sdk.Errorf(sdk.Permanent, "%s: the REST API has no such route here: check that site is the WordPress address and that the REST API is not disabled", msg)
	case s == http.StatusRequestEntityTooLarge:
		err = sdk.Errorf(sdk.Permanent, "%s: the blog's web server refuses a request this large: use a smaller image, or raise its limit and max_upload_mb", msg)
	default:
		err = sdk.Errorf(sdk.Permanent, "%s", msg)
	}
	f.err = err
	return f
}

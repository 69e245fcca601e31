package facebook_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/facebook"
	"github.com/tact-hq/tact/plugins/facebook/facebooktest"
	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
)

const page = "104857600123456" // the fake's first Page

var quiet = facebook.WithLogger(slog.New(slog.DiscardHandler))

func newServer(t *testing.T) *facebooktest.Server {
	srv := facebooktest.New()
	t.Cleanup(srv.Close)
	return srv
}

// settings points the plugin at srv with the Page's token; extra are key, value pairs.
func settings(srv *facebooktest.Server, extra ...string) map[string]string {
	s := map[string]string{"graph_url": srv.URL, "dialog_url": srv.URL, "access_token": srv.PageToken, "page_id": page}
	for i := 0; i+1 < len(extra); i += 2 {
		s[extra[i]] = extra[i+1]
	}
	return s
}

func configured(t *testing.T, srv *facebooktest.Server, opts []facebook.Option, extra ...string) *facebook.Network {
	t.Helper()
	n := facebook.New(append([]facebook.Option{quiet}, opts...)...)
	if err := n.Configure(plugintest.Context(t), settings(srv, extra...)); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return n
}

var (
	pngBytes  = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	jpegBytes = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte{1}, 64)...)
)

func TestConfigureRefusesBadSettings(t *testing.T) {
	srv := newServer(t)
	ctx := plugintest.Context(t)
	for _, tt := range []struct {
		settings map[string]string
		want     string
	}{
		{map[string]string{}, "no access_token and no client_id"},
		{settings(srv, "pageid", "1"), `unknown setting "pageid"`},
		{settings(srv, "page_id", "tramtourslisbon"), `setting "page_id" is "tramtourslisbon": write the Page's numeric id`},
		{settings(srv, "page_id", ""), "access_token is set without page_id"},
		{settings(srv, "graph_version", "26.0"), "vNN.N"},
		{settings(srv, "graph_version", "v26"), "vNN.N"},
		{settings(srv, "client_id", "123"), "set both client_id and client_secret"},
		{settings(srv, "config_id", "9", "scopes", "pages_manage_posts"), "config_id"},
		{settings(srv, "token_expires_at", "soon"), `"token_expires_at" is not an RFC 3339 time`},
		{settings(srv, "graph_url", "graph.facebook.com"), `setting "graph_url"`},
	} {
		n := facebook.New(quiet)
		plugintest.WantKind(t, n.Configure(ctx, tt.settings), sdk.Permanent, tt.want)
		if _, err := n.Publish(ctx, sdk.Post{Text: "hi"}, "k"); err == nil {
			t.Fatalf("Publish after a refused Configure (%v) succeeded", tt.settings)
		}
	}
	if len(srv.Posts()) != 0 {
		t.Fatal("a post was made")
	}
}

func TestPublishAText(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	ctx := plugintest.Context(t)
	r, err := n.Publish(ctx, sdk.Post{Text: "Lisbon by tram, from €2 🚋"}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	posts := srv.Posts()
	if len(posts) != 1 {
		t.Fatalf("%d posts, want 1", len(posts))
	}
	p := posts[0]
	if p.PageID != page || p.Message != "Lisbon by tram, from €2 🚋" || p.Kind != "status" || p.Version != facebook.DefaultVersion {
		t.Fatalf("post = %+v", p)
	}
	if r.RemoteID != p.ID || r.URL != "https://www.facebook.com/"+p.ID || r.PublishedAt.IsZero() {
		t.Fatalf("receipt = %+v for %s", r, p.ID)
	}
	again, err := n.Publish(ctx, sdk.Post{Text: "Lisbon by tram, from €2 🚋"}, "k1")
	if err != nil || again != r {
		t.Fatalf("the same key again = %+v, %v; want %+v", again, err, r)
	}
	if got := srv.Count("POST", "/"+page+"/feed"); got != 1 {
		t.Fatalf("%d creations, want 1", got)
	}
}

func TestThePinnedVersionIsUsed(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "graph_version", "v24.0")
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "pinned"}, "k"); err != nil {
		t.Fatal(err)
	}
	if v := srv.Posts()[0].Version; v != "v24.0" {
		t.Fatalf("posted with %s, want v24.0", v)
	}
	for _, r := range srv.Requests() {
		if !strings.Contains(r, " /v24.0/") {
			t.Fatalf("request %q is not under /v24.0/", r)
		}
	}
}

func TestPublishLinksAndPhotos(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	ctx := plugintest.Context(t)
	png := plugintest.Attachment(pngBytes, "image/png", "a yellow tram on a hill")
	jpeg := plugintest.Attachment(jpegBytes, "image/jpeg", "")

	if _, err := n.Publish(ctx, sdk.Post{Text: "Read this", Link: "https://shop.example/spring"}, "link"); err != nil {
		t.Fatal(err)
	}
	one, err := n.Publish(ctx, sdk.Post{Text: "One photo", Media: []sdk.Media{png}}, "photo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Publish(ctx, sdk.Post{Text: "Two photos", Link: "https://shop.example/summer", Media: []sdk.Media{png, jpeg}}, "photos"); err != nil {
		t.Fatal(err)
	}
	posts := srv.Posts()
	if len(posts) != 3 {
		t.Fatalf("%d posts, want 3", len(posts))
	}
	link, single, multi := posts[0], posts[1], posts[2]
	if link.Kind != "link" || link.Link != "https://shop.example/spring" || link.Message != "Read this" {
		t.Fatalf("link post = %+v", link)
	}
	if single.Kind != "photo" || single.Message != "One photo" || len(single.Photos) != 1 || one.RemoteID != single.ID {
		t.Fatalf("photo post = %+v (receipt %+v)", single, one)
	}
	ph, _ := srv.Photo(single.Photos[0])
	if !bytes.Equal(ph.Data, pngBytes) || ph.ContentType != "image/png" || ph.AltText != "a yellow tram on a hill" || !ph.Published {
		t.Fatalf("uploaded photo = %+v", ph)
	}
	if multi.Kind != "photos" || len(multi.Photos) != 2 || multi.Message != "Two photos\n\nhttps://shop.example/summer" {
		t.Fatalf("multi-photo post = %+v (the link belongs in its text)", multi)
	}
	for _, id := range multi.Photos {
		if ph, _ := srv.Photo(id); ph.Published || ph.PostID != multi.ID {
			t.Fatalf("photo %s = %+v: want uploaded unpublished, then attached to the post", id, ph)
		}
	}
}

func TestValidate(t *testing.T) {
	n := facebook.New(quiet)
	photo := sdk.Media{ID: strings.Repeat("a", 64), MimeType: "image/jpeg", Size: 2 << 20, Width: 1200, Height: 630}
	many := make([]sdk.Media, 11)
	for i := range many {
		many[i] = photo
	}
	tests := []struct {
		name string
		post sdk.Post
		want []string
	}{
		{"63,206 characters", sdk.Post{Text: strings.Repeat("é", 63206)}, nil},
		{"63,207 characters", sdk.Post{Text: strings.Repeat("é", 63207)}, []string{"text: is 63207 characters; Facebook allows 63206: shorten it by 1"}},
		{"a link post's link is not in the text", sdk.Post{Text: strings.Repeat("a", 63206), Link: "https://shop.example/"}, nil},
		{"a photo post puts the link in the text", sdk.Post{Text: strings.Repeat("a", 63200), Link: "https://shop.example/", Media: []sdk.Media{photo}},
			[]string{"text: is 63223 characters", "the link counts"}},
		{"empty", sdk.Post{}, []string{"text: the post is empty"}},
		{"only a link", sdk.Post{Link: "https://shop.example/"}, nil},
		{"only a photo", sdk.Post{Media: []sdk.Media{photo}}, nil},
		{"bad link", sdk.Post{Text: "x", Link: "ftp://shop.example/"}, []string{"link:"}},
		{"11 photos", sdk.Post{Text: "x", Media: many}, []string{"media: 11 photos; tact posts up to 10 per Facebook post: remove 1"}},
		{"10 photos", sdk.Post{Text: "x", Media: many[:10]}, nil},
		{"a video", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "video/mp4", Size: 10}}}, []string{"media[0]: is video/mp4"}},
		{"webp", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "image/webp", Size: 10}}}, []string{"media[0]: is a WebP image"}},
		{"10 MB is fine", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "image/png", Size: 10 << 20}}}, nil},
		{"over 10 MB", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "image/png", Size: 10<<20 + 1}}}, []string{"media[0]: the file is 10.0 MiB; Facebook takes at most 10.0 MiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, err := n.Validate(plugintest.Context(t), tt.post)
			if err != nil {
				t.Fatal(err)
			}
			if (len(problems) == 0) != (len(tt.want) == 0) {
				t.Fatalf("problems = %v, want %v", problems, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(sdk.JoinProblems(problems), w) {
					t.Errorf("problems %v do not say %q", problems, w)
				}
			}
		})
	}
	// Publish refuses what Validate refuses, before sending anything.
	srv := newServer(t)
	_, err := configured(t, srv, nil).Publish(plugintest.Context(t), sdk.Post{Text: strings.Repeat("a", 63207)}, "long")
	plugintest.WantKind(t, err, sdk.Permanent, "Facebook allows 63206")
	if srv.Count("POST", "/") != 0 {
		t.Fatal("an over-long post was sent")
	}
}

func TestGraphErrorsAreTyped(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	ctx := plugintest.Context(t)
	key := 0
	fail := func(status int, header http.Header, body string) error {
		srv.Fail(facebooktest.Fault{Method: "POST", Path: "/" + page + "/feed", Status: status, Header: header, Body: body})
		key++
		_, err := n.Publish(ctx, sdk.Post{Text: "typed"}, "k"+string(rune('a'+key)))
		return err
	}
	body := facebooktest.ErrorBody
	plugintest.WantKind(t, fail(400, nil, body(190, 463, "Error validating access token: Session has expired on Tuesday, 01-Dec-26 10:00:00 PST.", false)),
		sdk.Auth, "Session has expired on Tuesday, 01-Dec-26 10:00:00 PST. (code 190, subcode 463, fbtrace_id AbCdEfGhIjK): the token has expired: connect the account again")
	plugintest.WantKind(t, fail(400, nil, body(190, 458, "Error validating access token: The user has not authorized application 1234567890123456.", false)),
		sdk.Auth, "removed the app from their Facebook settings")
	plugintest.WantKind(t, fail(400, nil, body(102, 0, "Session key invalid or no longer valid", false)), sdk.Auth, "connect the account again")
	plugintest.WantKind(t, fail(403, nil, body(200, 0, "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission", false)),
		sdk.Auth, "pages_manage_posts")
	plugintest.WantKind(t, fail(403, nil, body(10, 0, "(#10) Application does not have permission for this action", false)), sdk.Auth, "lacks a permission")
	plugintest.WantKind(t, fail(400, nil, body(100, 33, "Unsupported post request. Object with ID '104857600123456' does not exist", false)), sdk.Auth, "check page_id")
	plugintest.WantKind(t, fail(400, nil, body(368, 1390008, "The action attempted has been deemed abusive or is otherwise disallowed", false)),
		sdk.Permanent, "going against its policies; sending it again would not help")
	plugintest.WantKind(t, fail(400, nil, `{"error":{"message":"(#506) Duplicate status message","type":"OAuthException","code":506,"error_subcode":1455006,"is_transient":false,"error_user_title":"Duplicate post","error_user_msg":"This status update is identical to the last one you posted.","fbtrace_id":"X"}}`),
		sdk.Permanent, "Duplicate post: This status update is identical to the last one you posted. — (#506) Duplicate status message")
	plugintest.WantKind(t, fail(400, nil, body(100, 0, "(#100) Invalid parameter", false)), sdk.Permanent, "Invalid parameter")
	plugintest.WantKind(t, fail(500, nil, body(1, 99, "An unknown error occurred", false)), sdk.Retryable, "An unknown error occurred")
	plugintest.WantKind(t, fail(503, nil, body(2, 0, "Service temporarily unavailable", true)), sdk.Retryable, "Service temporarily unavailable")
	plugintest.WantKind(t, fail(400, nil, body(100, 0, "Please retry your request later.", true)), sdk.Retryable, "retry your request later")
	plugintest.WantKind(t, fail(502, nil, "<html>Bad Gateway</html>"), sdk.Retryable, "Bad Gateway")

	// Rate limits wait what the usage headers estimate (minutes), else Retry-After, else 10 minutes.
	wait := func(code int, header http.Header) time.Duration {
		t.Helper()
		e := plugintest.WantKind(t, fail(400, header, body(code, 0, "(#"+http.StatusText(400)+") limit reached", false)), sdk.RateLimited, "limit reached")
		return e.RetryAfter
	}
	buc := http.Header{"X-Business-Use-Case-Usage": {`{"` + page + `":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":19}],"999":[{"type":"pages","call_count":100,"estimated_time_to_regain_access":55}]}`}}
	if d := wait(80001, buc); d != 19*time.Minute {
		t.Errorf("80001 with the Page's BUC estimate 19: RetryAfter %s, want 19m (the Page's own entry)", d)
	}
	if d := wait(32, http.Header{"X-Page-Usage": {`{"call_count":100,"total_cputime":40,"total_time":40,"estimated_time_to_regain_access":7}`}}); d != 7*time.Minute {
		t.Errorf("32 with X-Page-Usage 7: RetryAfter %s, want 7m", d)
	}
	if d := wait(4, http.Header{"X-App-Usage": {`{"call_count":100,"total_cputime":12,"total_time":9}`}}); d != 10*time.Minute {
		t.Errorf("4 with X-App-Usage (no estimate): RetryAfter %s, want the 10m fallback", d)
	}
	if d := wait(613, http.Header{"Retry-After": {"120"}}); d != 2*time.Minute {
		t.Errorf("613 with Retry-After 120: RetryAfter %s, want 2m", d)
	}
	if d := wait(17, nil); d != 10*time.Minute {
		t.Errorf("17: RetryAfter %s, want 10m", d)
	}
	if e := plugintest.WantKind(t, fail(429, nil, ""), sdk.RateLimited, "429"); e.RetryAfter != 10*time.Minute {
		t.Errorf("a bare 429: RetryAfter %s", e.RetryAfter)
	}
	if len(srv.Posts()) != 0 {
		t.Fatal("a post was made")
	}
}

// The fake's own throttle: Facebook says how long in X-Business-Use-Case-Usage; once it
// has passed, the same post goes out, and Lookup knew it had not.
func TestAThrottledPageWaitsAndThenPosts(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "state_dir", t.TempDir())
	ctx := plugintest.Context(t)
	srv.RateLimit(80001, 30)
	_, err := n.Publish(ctx, sdk.Post{Text: "later"}, "k")
	if e := plugintest.WantKind(t, err, sdk.RateLimited, "too many calls to this Page account"); e.RetryAfter != 30*time.Minute {
		t.Fatalf("RetryAfter %s, want the 30 minutes Facebook estimates", e.RetryAfter)
	}
	if _, found, err := n.Lookup(ctx, "k"); found || err != nil {
		t.Fatalf("Lookup after a throttled send = %v, %v; want not found: Facebook refused it", found, err)
	}
	srv.Advance(31 * time.Minute)
	if _, err := n.Publish(ctx, sdk.Post{Text: "later"}, "k"); err != nil {
		t.Fatal(err)
	}
	if len(srv.Posts()) != 1 {
		t.Fatal("the post did not go out once the limit lifted")
	}
}

func TestAnInvalidatedTokenNeedsAPerson(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	srv.Invalidate(srv.PageToken, 460)
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "changed their Facebook password")
	if strings.Contains(err.Error(), srv.PageToken) {
		t.Fatalf("the error shows the token: %v", err)
	}
	// Configured again with it, the process stays up and holds the posts without posting.
	m := configured(t, srv, nil)
	_, err = m.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "changed their Facebook password")
	if got := srv.Count("POST", "/"); got != 1 {
		t.Fatalf("%d posts sent with an invalid token, want only the first try", got)
	}
}

// A user token, or another Page's, posts nothing: Configure learns whom it acts as.
func TestATokenThatIsNotThePagesNeedsAPerson(t *testing.T) {
	srv := newServer(t)
	for _, tok := range []string{srv.UserToken, srv.IssuePageToken("104857600654321", facebooktest.DefaultScopes...)} {
		n := configured(t, srv, nil, "access_token", tok)
		_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k")
		plugintest.WantKind(t, err, sdk.Auth, "not as the Page "+page)
	}
	if got := srv.Count("POST", "/"); got != 0 {
		t.Fatalf("%d posts sent", got)
	}
}

// An app with "Require App Secret" on: without client_secret the account waits for a
// person; with it, every call carries appsecret_proof.
func TestAppSecretProof(t *testing.T) {
	srv := newServer(t)
	srv.RequireAppSecretProof = true
	n := configured(t, srv, nil)
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "set client_secret")
	m := configured(t, srv, nil, "client_id", srv.AppID, "client_secret", srv.AppSecret)
	if _, err := m.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Publish(plugintest.Context(t), sdk.Post{Text: "y", Media: []sdk.Media{plugintest.Attachment(pngBytes, "image/png", "")}}, "k2"); err != nil {
		t.Fatal(err)
	}
}

func TestAFileFacebookCannotReadIsPermanent(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	notAnImage := plugintest.Attachment([]byte("GIF? no, plain text"), "image/gif", "")
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "x", Media: []sdk.Media{notAnImage}}, "k")
	plugintest.WantKind(t, err, sdk.Permanent, "(#324) Missing or invalid image file")
	if len(srv.Posts()) != 0 {
		t.Fatal("a post was made")
	}
}

func TestDelete(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	ctx := plugintest.Context(t)
	for _, p := range []sdk.Post{{Text: "short-lived"}, {Text: "a photo", Media: []sdk.Media{plugintest.Attachment(jpegBytes, "image/jpeg", "")}}} {
		r, err := n.Publish(ctx, p, p.Text)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Delete(ctx, r.RemoteID); err != nil {
			t.Fatal(err)
		}
		if err := n.Delete(ctx, r.RemoteID); err != nil {
			t.Fatalf("deleting again: %v", err)
		}
	}
	if len(srv.Posts()) != 0 {
		t.Fatal("a post is still there")
	}
	if err := n.Delete(ctx, page+"_1"); err != nil {
		t.Fatalf("deleting a post Facebook never had: %v", err)
	}
	plugintest.WantKind(t, n.Delete(ctx, "https://www.facebook.com/"+page+"_1"), sdk.Permanent, "not a Facebook Page post id")
	plugintest.WantKind(t, n.Delete(ctx, "104857600654321_1"), sdk.Permanent, "is on Page 104857600654321, not on this account's Page "+page)
}

func TestAnExpiredTokenHoldsPostsWithoutCallingFacebook(t *testing.T) {
	srv := newServer(t)
	past := time.Now().Add(-time.Hour).UTC()
	n := configured(t, srv, nil, "token_expires_at", past.Format(time.RFC3339))
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "the access token expired on "+past.Format(time.DateOnly))
	plugintest.WantKind(t, n.Delete(plugintest.Context(t), page+"_1"), sdk.Auth, "expired")
	if got := len(srv.Requests()); got != 0 {
		t.Fatalf("%d calls to Facebook with an expired token", got)
	}

	// Expiring while the process runs, by the plugin's clock.
	now := time.Now()
	m := configured(t, srv, []facebook.Option{facebook.WithClock(func() time.Time { return now })}, "token_expires_at", now.Add(time.Hour).UTC().Format(time.RFC3339))
	now = now.Add(2 * time.Hour)
	_, err = m.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "expired")
}

func TestConfigureWarnsOfATokenAboutToExpire(t *testing.T) {
	srv := newServer(t)
	var log bytes.Buffer
	n := facebook.New(facebook.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	exp := time.Now().Add(3 * 24 * time.Hour).UTC()
	if err := n.Configure(plugintest.Context(t), settings(srv, "token_expires_at", exp.Format(time.RFC3339))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "expires on "+exp.Format(time.DateOnly)+" (in 3 days)") {
		t.Fatalf("log = %s", log.String())
	}
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "still works"}, "k"); err != nil {
		t.Fatalf("a token 3 days from expiry must still publish: %v", err)
	}
}

func TestExpiryNotice(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		expires time.Time
		want    string
	}{
		{time.Time{}, ""}, // a Page token from connecting
		{now.Add(30 * 24 * time.Hour), ""},
		{now.Add(7 * 24 * time.Hour), "expires on 2026-12-09 (in 7 days)"},
		{now.Add(-time.Minute), "expired on 2026-12-02"},
	} {
		msg, ok := facebook.ExpiryNotice(sdk.Credentials{AccessToken: "t", ExpiresAt: tt.expires}, now)
		if ok != (tt.want != "") || !strings.Contains(msg, tt.want) {
			t.Errorf("ExpiryNotice(%s) = %q, %v; want %q", tt.expires, msg, ok, tt.want)
		}
	}
}

func TestContextEndsCalls(t *testing.T) {
	srv := newServer(t)
	srv.HoldCreates = true
	n := configured(t, srv, nil)
	ctx, cancel := context.WithTimeout(plugintest.Context(t), 50*time.Millisecond)
	defer cancel()
	_, err := n.Publish(ctx, sdk.Post{Text: "held"}, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "")
}

package linkedin_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/linkedin"
	"github.com/tact-hq/tact/plugins/linkedin/linkedintest"
	"github.com/tact-hq/tact/plugins/sdk"
)

const page = "urn:li:organization:5515715" // administered by the fake's member

func newServer(t *testing.T) *linkedintest.Server {
	srv := linkedintest.New()
	t.Cleanup(srv.Close)
	return srv
}

// settings points the plugin at srv with its default token; extra are key, value pairs.
func settings(srv *linkedintest.Server, extra ...string) map[string]string {
	s := map[string]string{"api_url": srv.URL, "oauth_url": srv.URL, "access_token": srv.Token}
	for i := 0; i+1 < len(extra); i += 2 {
		s[extra[i]] = extra[i+1]
	}
	return s
}

func configured(t *testing.T, srv *linkedintest.Server, opts []linkedin.Option, extra ...string) *linkedin.Network {
	t.Helper()
	n := linkedin.New(append([]linkedin.Option{linkedin.WithImagePolling(time.Millisecond, 10*time.Second), linkedin.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
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
		{settings(srv, "authr", "x"), `unknown setting "authr"`},
		{settings(srv, "author", "urn:li:company:1"), `setting "author" is "urn:li:company:1"`},
		{settings(srv, "author", page, "visibility", "connections"), "only a member's posts"},
		{settings(srv, "visibility", "friends"), "use PUBLIC"},
		{settings(srv, "linkedin_version", "2026-06"), "YYYYMM"},
		{settings(srv, "client_id", "abc"), "set both client_id and client_secret"},
		{settings(srv, "token_expires_at", "soon"), `"token_expires_at" is not an RFC 3339 time`},
		{settings(srv, "api_url", "api.linkedin.com"), `setting "api_url"`},
	} {
		n := linkedin.New()
		plugintest.WantKind(t, n.Configure(ctx, tt.settings), sdk.Permanent, tt.want)
		if _, err := n.Publish(ctx, sdk.Post{Text: "hi"}, "k"); err == nil {
			t.Fatalf("Publish after a refused Configure (%v) succeeded", tt.settings)
		}
	}
	if len(srv.Posts()) != 0 {
		t.Fatal("a post was made")
	}
}

func TestPublishAsTheConnectedMember(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil) // no author: learnt from /v2/userinfo
	r, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "Hello LinkedIn"}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	posts := srv.Posts()
	if len(posts) != 1 {
		t.Fatalf("%d posts, want 1", len(posts))
	}
	p := posts[0]
	if p.Author != srv.Member.URN() || p.Text != "Hello LinkedIn" || p.Visibility != "PUBLIC" || p.Kind != "text" || p.Version != linkedin.DefaultVersion {
		t.Fatalf("post = %+v", p)
	}
	if r.RemoteID != p.URN || r.URL != "https://www.linkedin.com/feed/update/"+p.URN+"/" || r.PublishedAt.IsZero() {
		t.Fatalf("receipt = %+v for %s", r, p.URN)
	}
	again, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "Hello LinkedIn"}, "k1")
	if err != nil || again != r {
		t.Fatalf("the same key again = %+v, %v; want %+v", again, err, r)
	}
	if got := srv.Count("POST", "/rest/posts"); got != 1 {
		t.Fatalf("%d creations, want 1", got)
	}
}

func TestPublishAsAPageWithPinnedVersionAndVisibility(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "author", page, "linkedin_version", "202611")
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "From the page"}, "k1"); err != nil {
		t.Fatal(err)
	}
	if p := srv.Posts()[0]; p.Author != page || p.Version != "202611" {
		t.Fatalf("post = %+v, want by %s with LinkedIn-Version 202611", p, page)
	}
	m := configured(t, srv, nil, "visibility", "CONNECTIONS")
	if _, err := m.Publish(plugintest.Context(t), sdk.Post{Text: "For my connections"}, "k2"); err != nil {
		t.Fatal(err)
	}
	if p := srv.Posts()[1]; p.Visibility != "CONNECTIONS" {
		t.Fatalf("visibility = %s", p.Visibility)
	}
}

// LinkedIn reads commentary as little text and silently drops everything from an
// unescaped reserved character on: the whole text must arrive, hashtags as hashtags.
func TestPublishedTextArrivesWhole(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	text := "Lisbon (from €49) [today only] <3 — mail sales@brand.example, C# & *stars* ~ _under_ {x|y} \\ #SpringSale #2026 #lisbon_trip"
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: text}, "k1"); err != nil {
		t.Fatal(err)
	}
	p := srv.Posts()[0]
	if p.Text != text {
		t.Fatalf("LinkedIn kept %q\nof %q", p.Text, text)
	}
	for _, tag := range []string{`{hashtag|\#|SpringSale}`, `{hashtag|\#|lisbon\_trip}`, `\#2026`, `C\#`} {
		if !strings.Contains(p.Commentary, tag) {
			t.Errorf("commentary %q lacks %s", p.Commentary, tag)
		}
	}
}

func TestPublishImagesAndLinks(t *testing.T) {
	srv := newServer(t)
	srv.ProcessingPolls = 2
	n := configured(t, srv, nil, "author", page)
	ctx := plugintest.Context(t)
	png := plugintest.Attachment(pngBytes, "image/png", "a tram in Lisbon")
	jpeg := plugintest.Attachment(jpegBytes, "image/jpeg", "")

	if _, err := n.Publish(ctx, sdk.Post{Text: "One image", Media: []sdk.Media{png}}, "img1"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Publish(ctx, sdk.Post{Text: "Two images", Link: "https://shop.example/spring", Media: []sdk.Media{png, jpeg}}, "img2"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Publish(ctx, sdk.Post{Text: "Read this", Link: "https://www.shop.example/spring/"}, "art1"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Publish(ctx, sdk.Post{Text: "Read this too", Link: "https://shop.example/summer", Media: []sdk.Media{jpeg}}, "art2"); err != nil {
		t.Fatal(err)
	}
	posts := srv.Posts()
	if len(posts) != 4 {
		t.Fatalf("%d posts, want 4", len(posts))
	}
	single, multi, article, card := posts[0], posts[1], posts[2], posts[3]
	if single.Kind != "image" || len(single.Images) != 1 || single.AltTexts[0] != "a tram in Lisbon" {
		t.Fatalf("single image post = %+v", single)
	}
	img, _ := srv.Image(single.Images[0])
	if !bytes.Equal(img.Data, pngBytes) || img.Owner != page || img.Status != "AVAILABLE" {
		t.Fatalf("uploaded image = %+v", img)
	}
	if multi.Kind != "multiImage" || len(multi.Images) != 2 || multi.Text != "Two images\n\nhttps://shop.example/spring" {
		t.Fatalf("multi-image post = %+v (the link belongs in its text)", multi)
	}
	if article.Kind != "article" || article.Article.Source != "https://www.shop.example/spring/" || article.Article.Title != "shop.example/spring" || article.Text != "Read this" {
		t.Fatalf("article post = %+v", article)
	}
	if card.Kind != "article" || card.Article.Thumbnail == "" || len(card.Images) != 1 {
		t.Fatalf("article with an image = %+v, want the image as its thumbnail", card)
	}
	// Each upload was polled until AVAILABLE: two PROCESSING answers, then AVAILABLE.
	if got, uploads := srv.Count("GET", "/rest/images/"), srv.Count("PUT", "/dms-uploads/"); uploads != 4 || got != 3*uploads {
		t.Fatalf("%d uploads polled %d times, want 4 polled 3 times each", uploads, got)
	}
}

func TestAnImageLinkedInCannotProcessIsPermanent(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	notAnImage := plugintest.Attachment([]byte("GIF? no, plain text"), "image/gif", "")
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "x", Media: []sdk.Media{notAnImage}}, "k")
	plugintest.WantKind(t, err, sdk.Permanent, "PROCESSING_FAILED")
	if len(srv.Posts()) != 0 {
		t.Fatal("a post was made")
	}
}

func TestValidate(t *testing.T) {
	n := linkedin.New()
	img := sdk.Media{ID: strings.Repeat("a", 64), MimeType: "image/png", Size: 2048, Width: 1200, Height: 800}
	many := make([]sdk.Media, 21)
	for i := range many {
		many[i] = img
	}
	tests := []struct {
		name string
		post sdk.Post
		want []string
	}{
		{"3,000 characters", sdk.Post{Text: strings.Repeat("é", 3000)}, nil},
		{"3,001 characters", sdk.Post{Text: strings.Repeat("é", 3001)}, []string{"text: is 3001 characters; LinkedIn allows 3000: shorten it by 1"}},
		{"reserved characters count once", sdk.Post{Text: strings.Repeat("(", 3000)}, nil},
		{"an article's link is not in the text", sdk.Post{Text: strings.Repeat("a", 3000), Link: "https://shop.example/"}, nil},
		{"several images put the link in the text", sdk.Post{Text: strings.Repeat("a", 2990), Link: "https://shop.example/", Media: []sdk.Media{img, img}},
			[]string{"text: is 3013 characters", "the link counts"}},
		{"empty", sdk.Post{}, []string{"text: the post is empty"}},
		{"only a link", sdk.Post{Link: "https://shop.example/"}, nil},
		{"bad link", sdk.Post{Text: "x", Link: "ftp://shop.example/"}, []string{"link:"}},
		{"21 images", sdk.Post{Text: "x", Media: many}, []string{"media: 21 images; LinkedIn takes up to 20 per post: remove 1"}},
		{"a video", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "video/mp4", Size: 10}}}, []string{"media[0]: is video/mp4"}},
		{"webp", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "image/webp", Size: 10}}}, []string{"media[0]: is image/webp"}},
		{"too many pixels", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "image/jpeg", Width: 8000, Height: 6000}}}, []string{"media[0]: is 8000×6000 pixels"}},
		{"alt text too long", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "image/gif", Alt: strings.Repeat("a", 4087)}}}, []string{"media[0]: its description (alt text) is 4087 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, err := n.Validate(plugintest.Context(t), tt.post)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != len(tt.want) && !(len(tt.want) == 2 && len(problems) == 1) {
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
	_, err := configured(t, srv, nil).Publish(plugintest.Context(t), sdk.Post{Text: strings.Repeat("a", 3001)}, "long")
	plugintest.WantKind(t, err, sdk.Permanent, "LinkedIn allows 3000")
	if srv.Count("POST", "/rest/") != 0 {
		t.Fatal("an over-long post was sent")
	}
}

func TestLinkedInErrorsAreTyped(t *testing.T) {
	srv := newServer(t)
	now := time.Date(2026, 12, 2, 23, 40, 0, 0, time.UTC)
	n := configured(t, srv, []linkedin.Option{linkedin.WithClock(func() time.Time { return now })}, "author", page)
	ctx := plugintest.Context(t)
	fail := func(status int, header http.Header, body string) error {
		srv.Fail(linkedintest.Fault{Method: "POST", Path: "/rest/posts", Status: status, Header: header, Body: body})
		_, err := n.Publish(ctx, sdk.Post{Text: "typed"}, "k-"+body+http.StatusText(status))
		return err
	}
	plugintest.WantKind(t, fail(401, nil, `{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token used in the request has been revoked by the user"}`),
		sdk.Auth, "REVOKED_ACCESS_TOKEN: The token used in the request has been revoked by the user: the access token is not valid")
	plugintest.WantKind(t, fail(403, nil, `{"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"Not enough permissions to access: partnerApiPostsExternal.CREATE.20261101"}`),
		sdk.Auth, "w_organization_social")
	plugintest.WantKind(t, fail(403, nil, `{"status":403,"code":"FORBIDDEN","message":"Posting to this feed is not allowed"}`),
		sdk.Permanent, "Posting to this feed is not allowed")
	plugintest.WantKind(t, fail(422, nil, `{"errorDetailType":"com.linkedin.common.error.BadRequest","message":"com.linkedin.content.common.exception.BadRequestResponseException: Invalid article","errorDetails":{"inputErrors":[{"description":"must be a valid URL","input":{"inputPath":{"fieldPath":"/content/article/source"}},"code":"INVALID_VALUE"}]},"status":422}`),
		sdk.Permanent, "Invalid article; /content/article/source: must be a valid URL")
	plugintest.WantKind(t, fail(400, nil, `{"status":400,"message":"Bad request"}`), sdk.Permanent, "Bad request")
	plugintest.WantKind(t, fail(500, nil, `{"status":500,"message":"Internal Server Error"}`), sdk.Retryable, "Internal Server Error")
	plugintest.WantKind(t, fail(504, nil, `upstream timeout`), sdk.Retryable, "upstream timeout")

	// 429 without Retry-After waits for the daily reset at midnight UTC, at most an hour.
	e := plugintest.WantKind(t, fail(429, nil, `{"status":429,"serviceErrorCode":101,"code":"TOO_MANY_REQUESTS","message":"Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}`),
		sdk.RateLimited, "APPLICATION DAY limit")
	if e.RetryAfter != 20*time.Minute {
		t.Fatalf("RetryAfter = %s at 23:40 UTC, want 20m (midnight UTC)", e.RetryAfter)
	}
	now = now.Add(-12 * time.Hour)
	if e := plugintest.WantKind(t, fail(429, nil, `{"status":429}`), sdk.RateLimited, "429"); e.RetryAfter != time.Hour {
		t.Fatalf("RetryAfter = %s at 11:40 UTC, want an hour", e.RetryAfter)
	}
	if e := plugintest.WantKind(t, fail(429, http.Header{"Retry-After": {"120"}}, `{"status":429}`), sdk.RateLimited, "429"); e.RetryAfter != 2*time.Minute {
		t.Fatalf("RetryAfter = %s, want Retry-After's 2m", e.RetryAfter)
	}
	if len(srv.Posts()) != 0 {
		t.Fatal("a post was made")
	}
}

// A LinkedIn-Version LinkedIn stopped serving holds the account's posts (Auth), with what
// to change, instead of failing each post.
func TestASunsetVersionNeedsAPerson(t *testing.T) {
	srv := newServer(t)
	srv.OldestVersion = "202601"
	n := configured(t, srv, nil, "linkedin_version", "202512")
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "set the account's linkedin_version")
	plugintest.WantKind(t, err, sdk.Auth, "NONEXISTENT_VERSION: Requested version 202512 is not active")
}

func TestRevokedTokenNeedsAPerson(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	srv.Revoke(srv.Token)
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "REVOKED_ACCESS_TOKEN")
	if strings.Contains(err.Error(), srv.Token) {
		t.Fatalf("the error shows the token: %v", err)
	}
}

func TestDelete(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "author", page)
	ctx := plugintest.Context(t)
	r, err := n.Publish(ctx, sdk.Post{Text: "short-lived"}, "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Delete(ctx, r.RemoteID); err != nil {
		t.Fatal(err)
	}
	if len(srv.Posts()) != 0 {
		t.Fatal("the post is still there")
	}
	if err := n.Delete(ctx, r.RemoteID); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if err := n.Delete(ctx, "urn:li:share:1"); err != nil {
		t.Fatalf("deleting a post LinkedIn never had: %v", err)
	}
	plugintest.WantKind(t, n.Delete(ctx, "7140000000000000001"), sdk.Permanent, "not a LinkedIn post URN")
}

func TestWithoutReadScopeLookupCannotTellButNeverPostsTwice(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "state_dir", t.TempDir()) // a member, without r_member_social
	srv.DropAfterCreate(1)
	ctx := plugintest.Context(t)
	_, err := n.Publish(ctx, sdk.Post{Text: "lost answer"}, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "")
	_, found, err := n.Lookup(ctx, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "r_member_social")
	if found {
		t.Fatal("found without being able to look")
	}
	_, err = n.Publish(ctx, sdk.Post{Text: "lost answer"}, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "cannot tell")
	if got := len(srv.Posts()); got != 1 {
		t.Fatalf("%d posts, want 1", got)
	}
}

func TestContextEndsCalls(t *testing.T) {
	srv := newServer(t)
	srv.HoldCreates = true
	n := configured(t, srv, nil, "author", page)
	ctx, cancel := context.WithTimeout(plugintest.Context(t), 50*time.Millisecond)
	defer cancel()
	_, err := n.Publish(ctx, sdk.Post{Text: "held"}, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "")
}

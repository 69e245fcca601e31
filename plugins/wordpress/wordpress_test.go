package wordpress_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/wordpress"
	"github.com/tact-hq/tact/plugins/wordpress/wordpresstest"
)

// settings are srv's administrator settings with extra key/value pairs over them.
func settings(srv *wordpresstest.Server, kv ...string) map[string]string {
	s := srv.Settings()
	for i := 0; i+1 < len(kv); i += 2 {
		s[kv[i]] = kv[i+1]
	}
	return s
}

func configured(t *testing.T, srv *wordpresstest.Server, kv ...string) *wordpress.Network {
	t.Helper()
	n := wordpress.New(wordpress.WithLogger(slog.New(slog.DiscardHandler)))
	if err := n.Configure(plugintest.Context(t), settings(srv, kv...)); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return n
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A tact post becomes a blog post: the first line its title, the rest paragraphs (escaped),
// the link a last paragraph, the first image featured with its alt text, the second in the
// text, the account's category and tag by id, and the key's slug.
func TestPublishMakesABlogPost(t *testing.T) {
	srv := wordpresstest.New(t)
	travel := srv.AddTerm("category", "Travel & Food")
	lisbon := srv.AddTerm("post_tag", "Lisbon")
	n := configured(t, srv, "categories", "travel & food", "tags", "Lisbon")
	img1, img2 := pngOf(t, 4, 3), pngOf(t, 2, 2)
	post := sdk.Post{
		Text:  "Lisbon by tram\n\nFrom €2 <a day>.\nAll summer.\n\nBook now",
		Link:  "https://shop.example/tram?x=1&y=2",
		Media: []sdk.Media{plugintest.Attachment(img1, "image/png", "A yellow tram"), plugintest.Attachment(img2, "image/png", "The river")},
	}
	r, err := n.Publish(plugintest.Context(t), post, "campaign-1/post-2")
	if err != nil {
		t.Fatal(err)
	}
	posts := srv.Posts()
	if len(posts) != 1 {
		t.Fatalf("%d posts, want 1", len(posts))
	}
	p := posts[0]
	if r.RemoteID != itoa(p.ID) || r.URL != srv.URL+"/"+wordpress.Slug("campaign-1/post-2")+"/" || r.PublishedAt.IsZero() {
		t.Errorf("receipt %+v for post %+v", r, p)
	}
	if p.Title != "Lisbon by tram" || p.Status != "publish" || p.Slug != wordpress.Slug("campaign-1/post-2") {
		t.Errorf("post %+v", p)
	}
	for _, want := range []string{"<p>From €2 &lt;a day&gt;.<br />\nAll summer.</p>", "<p>Book now</p>",
		`<p><a href="https://shop.example/tram?x=1&amp;y=2">https://shop.example/tram?x=1&amp;y=2</a></p>`, `alt="The river"`} {
		if !strings.Contains(p.Content, want) {
			t.Errorf("content lacks %q:\n%s", want, p.Content)
		}
	}
	media := srv.Media()
	if len(media) != 2 || p.FeaturedMedia != media[0].ID || media[0].Alt != "A yellow tram" || !bytes.Equal(media[0].Data, img1) || !strings.HasSuffix(media[0].FileName, ".png") {
		t.Errorf("featured %d, media %+v", p.FeaturedMedia, media)
	}
	if !slices.Equal(p.Categories, []int{travel}) || !slices.Equal(p.Tags, []int{lisbon}) {
		t.Errorf("categories %v tags %v, want [%d] [%d]", p.Categories, p.Tags, travel, lisbon)
	}
}

// With title = none the whole text is the content and there is no title; status future
// schedules the post schedule_delay after tact publishes.
func TestNoTitleAndFutureStatus(t *testing.T) {
	srv := wordpresstest.New(t)
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	srv.Now = func() time.Time { return now }
	n := wordpress.New(wordpress.WithClock(func() time.Time { return now }), wordpress.WithLogger(slog.New(slog.DiscardHandler)))
	if err := n.Configure(plugintest.Context(t), settings(srv, "title", "none", "status", "future", "schedule_delay", "2h")); err != nil {
		t.Fatal(err)
	}
	r, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "Just a note"}, "k")
	if err != nil {
		t.Fatal(err)
	}
	p := srv.Posts()[0]
	if p.Title != "" || p.Content != "<p>Just a note</p>" || p.Status != "future" || !p.DateGMT.Equal(now.Add(2*time.Hour)) || !r.PublishedAt.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("post %+v, receipt %+v", p, r)
	}
}

// A site without pretty permalinks advertises ?rest_route=/: the plugin follows it.
func TestPlainPermalinksAreDiscovered(t *testing.T) {
	srv := wordpresstest.New(t)
	srv.PlainPermalinks = true
	n := configured(t, srv)
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "plain"}, "k"); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Posts()); got != 1 {
		t.Fatalf("%d posts", got)
	}
}

// Settings are checked before anything is sent, each refusal naming the setting.
func TestBadSettingsAreRefused(t *testing.T) {
	srv := wordpresstest.New(t)
	for _, tc := range []struct {
		kv   []string
		want string
	}{
		{[]string{"site", ""}, `"site" is missing`},
		{[]string{"site", "ftp://blog"}, `"site"`},
		{[]string{"user", ""}, `"user" is missing`},
		{[]string{"app_password", ""}, `"app_password" is missing`},
		{[]string{"status", "live"}, `"status" is "live"`},
		{[]string{"status", "future"}, "schedule_delay is not set"},
		{[]string{"schedule_delay", "1h"}, "only applies to status"},
		{[]string{"title", "h1"}, `"title" is "h1"`},
		{[]string{"delete", "burn"}, `"delete" is "burn"`},
		{[]string{"max_upload_mb", "0"}, `"max_upload_mb"`},
		{[]string{"create_terms", "maybe"}, `"create_terms"`},
		{[]string{"categry", "x"}, `unknown setting "categry"`},
	} {
		err := wordpress.New().Configure(plugintest.Context(t), settings(srv, tc.kv...))
		plugintest.WantKind(t, err, sdk.Permanent, tc.want)
	}
	if n := srv.Count("GET", "/wp/v2/users/me"); n != 0 {
		t.Errorf("%d requests for bad settings", n)
	}
}

// A wrong password, an unknown user and a role that may not publish mark the account as
// needing a person; a contributor may still send posts for review.
func TestCredentialsAndRoles(t *testing.T) {
	srv := wordpresstest.New(t)
	ctx := plugintest.Context(t)
	err := wordpress.New().Configure(ctx, settings(srv, "app_password", "abcd efgh ijkl mnop qrst uvwx"))
	plugintest.WantKind(t, err, sdk.Auth, "incorrect_password")
	err = wordpress.New().Configure(ctx, settings(srv, "user", "nobody"))
	plugintest.WantKind(t, err, sdk.Auth, "invalid_username")
	user, pass := srv.AddUser("casey", "contributor")
	err = wordpress.New().Configure(ctx, settings(srv, "user", user, "app_password", pass))
	plugintest.WantKind(t, err, sdk.Auth, `set status = "pending"`)
	n := configured(t, srv, "user", user, "app_password", pass, "status", "pending")
	if _, err := n.Publish(ctx, sdk.Post{Text: "for review"}, "k"); err != nil {
		t.Fatal(err)
	}
	if p := srv.Posts()[0]; p.Status != "pending" {
		t.Fatalf("status %s", p.Status)
	}
	ps, _ := n.Validate(ctx, sdk.Post{Text: "t", Media: []sdk.Media{{MimeType: "image/png", Size: 10}}})
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "may not upload") {
		t.Fatalf("problems %v", ps)
	}
}

// Categories the blog lacks are refused when the account is configured, by name; with
// create_terms they are created at the first publish, once.
func TestUnknownTerms(t *testing.T) {
	srv := wordpresstest.New(t)
	err := wordpress.New().Configure(plugintest.Context(t), settings(srv, "categories", "News, Uncategorized", "tags", "spring"))
	plugintest.WantKind(t, err, sdk.Permanent, `no category "News", tag "spring": create them`)
	n := configured(t, srv, "categories", "News", "tags", "spring", "create_terms", "true")
	if len(srv.Terms("category")) != 1 {
		t.Fatal("Configure created a term")
	}
	ctx := plugintest.Context(t)
	for _, k := range []string{"a", "b"} {
		if _, err := n.Publish(ctx, sdk.Post{Text: "post " + k}, k); err != nil {
			t.Fatal(err)
		}
	}
	cats, tags := srv.Terms("category"), srv.Terms("post_tag")
	if len(cats) != 2 || len(tags) != 1 || srv.Count("POST", "/wp/v2/categories") != 1 {
		t.Fatalf("categories %+v tags %+v", cats, tags)
	}
	if p := srv.Posts()[1]; !slices.Equal(p.Categories, []int{cats[1].ID}) || !slices.Equal(p.Tags, []int{tags[0].ID}) {
		t.Fatalf("post %+v", p)
	}
	// A term someone else created meanwhile is term_exists: its id is used.
	srv2 := wordpresstest.New(t)
	n2 := configured(t, srv2, "categories", "Late", "create_terms", "true")
	late := srv2.AddTerm("category", "Late")
	if _, err := n2.Publish(ctx, sdk.Post{Text: "x"}, "k"); err != nil {
		t.Fatal(err)
	}
	if p := srv2.Posts()[0]; !slices.Equal(p.Categories, []int{late}) {
		t.Fatalf("categories %v, want [%d]", p.Categories, late)
	}
	// An author may not create categories: the account needs a person.
	srv3 := wordpresstest.New(t)
	user, pass := srv3.AddUser("ann", "author")
	n3 := configured(t, srv3, "user", user, "app_password", pass, "categories", "News", "create_terms", "true")
	_, err = n3.Publish(ctx, sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, `may not create the category "News"`)
	if len(srv3.Posts()) != 0 {
		t.Fatal("posted without its category")
	}
}

// WordPress's errors are typed as docs/networks/wordpress.md says.
func TestErrorsAreTyped(t *testing.T) {
	srv := wordpresstest.New(t)
	n := configured(t, srv)
	ctx := plugintest.Context(t)
	for _, tc := range []struct {
		fault wordpresstest.Fault
		kind  sdk.ErrorKind
		want  string
		after time.Duration
	}{
		{wordpresstest.Fault{Status: 429, Header: http.Header{"Retry-After": {"30"}}, Body: "<html>slow down</html>"}, sdk.RateLimited, "slow down", 30 * time.Second},
		{wordpresstest.Fault{Status: 429, Body: "{}"}, sdk.RateLimited, "429", time.Minute},
		{wordpresstest.Fault{Status: 503, Body: `{"code":"maintenance","message":"Briefly unavailable for scheduled maintenance.","data":{"status":503}}`}, sdk.Retryable, "Briefly unavailable", 0},
		{wordpresstest.Fault{Method: "POST", Status: 400, Body: `{"code":"rest_invalid_param","message":"Invalid parameter(s): categories","data":{"status":400,"params":{"categories":"categories[0] is not of type integer."}}}`}, sdk.Permanent, "categories[0] is not of type integer", 0},
		{wordpresstest.Fault{Method: "POST", Status: 401, Body: `{"code":"rest_cannot_create","message":"Sorry, you are not allowed to create posts as this user.","data":{"status":401}}`}, sdk.Auth, "Application Passwords", 0},
		{wordpresstest.Fault{Method: "POST", Status: 403, Body: `{"code":"rest_cannot_publish","message":"Sorry, you are not allowed to publish posts in this post type.","data":{"status":403}}`}, sdk.Auth, "Author role", 0},
		{wordpresstest.Fault{Method: "POST", Status: 404, Body: `{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`}, sdk.Permanent, "REST API is not disabled", 0},
	} {
		srv.Fail(tc.fault)
		_, err := n.Publish(ctx, sdk.Post{Text: "t"}, "k-"+tc.want)
		e := plugintest.WantKind(t, err, tc.kind, tc.want)
		if e != nil && e.RetryAfter != tc.after {
			t.Errorf("%s: retry after %s, want %s", tc.want, e.RetryAfter, tc.after)
		}
	}
	// A file type the site does not allow is a 500 that will not change.
	srv.Fail(wordpresstest.Fault{Method: "POST", Route: "/wp/v2/media", Status: 500, Body: `{"code":"rest_upload_sideload_error","message":"Sorry, you are not allowed to upload this file type.","data":{"status":500}}`})
	_, err := n.Publish(ctx, sdk.Post{Text: "t", Media: []sdk.Media{plugintest.Attachment(pngOf(t, 1, 1), "image/png", "")}}, "k-media")
	plugintest.WantKind(t, err, sdk.Permanent, "not allowed to upload this file type")
	if len(srv.Posts()) != 0 {
		t.Fatalf("%d posts after refusals", len(srv.Posts()))
	}
	// A blog that cannot be reached is retryable.
	srv.Close()
	_, err = n.Publish(ctx, sdk.Post{Text: "t"}, "k-down")
	plugintest.WantKind(t, err, sdk.Retryable, "cannot tell whether post")
}

// Validate gives WordPress's limits in words a marketer reads.
func TestValidate(t *testing.T) {
	srv := wordpresstest.New(t)
	n := configured(t, srv, "max_upload_mb", "1")
	ctx := plugintest.Context(t)
	many := make([]sdk.Media, 11)
	for i := range many {
		many[i] = sdk.Media{MimeType: "image/png", Size: 100}
	}
	for _, tc := range []struct {
		post sdk.Post
		want string
	}{
		{sdk.Post{Text: ""}, "the post is empty"},
		{sdk.Post{Text: " \n", Link: "https://shop.example/"}, "first line becomes the blog post's title"},
		{sdk.Post{Text: "t", Link: "mailto:a@b"}, "not an http(s) address"},
		{sdk.Post{Text: "t", Media: many}, "remove 1"},
		{sdk.Post{Text: "t", Media: []sdk.Media{{MimeType: "video/mp4", Size: 10}}}, "is video/mp4"},
		{sdk.Post{Text: "t", Media: []sdk.Media{{MimeType: "image/png", Size: 2 << 20}}}, "at most 1.0 MiB"},
		{sdk.Post{Text: "t", Media: []sdk.Media{{MimeType: "image/png", Size: 1, Alt: strings.Repeat("a", 1001)}}}, "shorten it by 1"},
	} {
		ps, err := n.Validate(ctx, tc.post)
		if err != nil || !slices.ContainsFunc(ps, func(p sdk.Problem) bool { return strings.Contains(p.Message, tc.want) }) {
			t.Errorf("Validate(%+v) = %v, %v; want a problem saying %q", tc.post.Text, ps, err, tc.want)
		}
		if _, err := n.Publish(ctx, tc.post, "k"); sdk.KindOf(err) != sdk.Permanent {
			t.Errorf("Publish of a refused post: %v", err)
		}
	}
	if srv.Count("POST", "/wp/v2/posts") != 0 {
		t.Fatal("a refused post was sent")
	}
}

// Delete moves the post to the trash (then Lookup no longer finds it); again is fine;
// delete = force removes it for good.
func TestDelete(t *testing.T) {
	srv := wordpresstest.New(t)
	ctx := plugintest.Context(t)
	n := configured(t, srv)
	r, err := n.Publish(ctx, sdk.Post{Text: "to trash"}, "k")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := n.Delete(ctx, r.RemoteID); err != nil {
			t.Fatal(err)
		}
	}
	if p := srv.Posts()[0]; p.Status != "trash" {
		t.Fatalf("status %s", p.Status)
	}
	if _, found, err := n.Lookup(ctx, "k"); found || err != nil {
		t.Fatalf("Lookup of a trashed post = %v, %v", found, err)
	}
	f := configured(t, srv, "delete", "force")
	r2, _ := f.Publish(ctx, sdk.Post{Text: "to delete"}, "k2")
	if err := f.Delete(ctx, r2.RemoteID); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, r2.RemoteID); err != nil {
		t.Fatalf("deleting a post already gone: %v", err)
	}
	if len(srv.Posts()) != 1 {
		t.Fatalf("posts %+v", srv.Posts())
	}
	plugintest.WantKind(t, f.Delete(ctx, "urn:x"), sdk.Permanent, "not a WordPress post id")
}

// The Application Password appears in no error, even one quoting a URL.
func TestThePasswordIsNeverInAnError(t *testing.T) {
	srv := wordpresstest.New(t)
	s := settings(srv)
	pass := strings.ReplaceAll(s["app_password"], " ", "")
	ctx := plugintest.Context(t)
	n := configured(t, srv)
	var errs []error
	srv.Fail(wordpresstest.Fault{Status: 400, Body: `{"code":"x","message":"` + "bad" + `","data":{"status":400}}`})
	_, err := n.Publish(ctx, sdk.Post{Text: "t"}, "k")
	errs = append(errs, err)
	srv.Close()
	_, err = n.Publish(ctx, sdk.Post{Text: "t"}, "k")
	errs = append(errs, err)
	bad := maps.Clone(s)
	bad["site"] = "http://admin:" + pass + "@127.0.0.1:1"
	errs = append(errs, wordpress.New().Configure(ctx, bad))
	for _, err := range errs {
		if err == nil || strings.Contains(err.Error(), pass) {
			t.Errorf("error %v (want one, without the password)", err)
		}
	}
}

// Lookup before Configure says what is wrong instead of guessing.
func TestLookupBeforeConfigure(t *testing.T) {
	_, _, err := wordpress.New().Lookup(context.Background(), "k")
	if err == nil || !strings.Contains(err.Error(), "before Configure") {
		t.Fatal(err)
	}
}

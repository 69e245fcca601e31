package micropub_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/crashtest"
	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/micropub"
	"github.com/tact-hq/tact/plugins/micropub/micropubtest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

func configured(t *testing.T, srv *micropubtest.Server, kv ...string) *micropub.Network {
	t.Helper()
	s := map[string]string{"site": srv.URL, "token": srv.Token}
	for i := 0; i+1 < len(kv); i += 2 {
		s[kv[i]] = kv[i+1]
	}
	n := micropub.New(micropub.WithLogger(slog.New(slog.DiscardHandler)))
	if err := n.Configure(plugintest.Context(t), s); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return n
}

var png1 = []byte("\x89PNG\r\n\x1a\nfirst")

// A note goes out as JSON with its link, category, mp-slug and a photo uploaded to the
// media endpoint with its alt text; the receipt is the Location.
func TestPublishJSONWithMediaEndpoint(t *testing.T) {
	srv := micropubtest.New(t)
	n := configured(t, srv, "category", "travel, spring")
	r, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "Lisbon by tram", Link: "https://shop.example/tram",
		Media: []sdk.Media{plugintest.Attachment(png1, "image/png", "A yellow tram")}}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	posts, ups := srv.Posts(), srv.Uploads()
	if len(posts) != 1 || len(ups) != 1 || !bytes.Equal(ups[0].Data, png1) {
		t.Fatalf("posts %+v uploads %+v", posts, ups)
	}
	p := posts[0]
	if r.RemoteID != p.URL || r.URL != p.URL || !strings.HasSuffix(p.URL, micropub.Slug("k1")) {
		t.Errorf("receipt %+v for %s", r, p.URL)
	}
	if p.Content() != "Lisbon by tram\n\nhttps://shop.example/tram" {
		t.Errorf("content %q", p.Content())
	}
	photo, _ := p.Properties["photo"][0].(map[string]any)
	if photo["value"] != ups[0].URL || photo["alt"] != "A yellow tram" {
		t.Errorf("photo %v", p.Properties["photo"])
	}
	if c := p.Properties["category"]; len(c) != 2 || c[0] != "travel" {
		t.Errorf("category %v", c)
	}
}

// Form encoding, and a server without a media endpoint: the photo goes with the post as
// multipart/form-data.
func TestFormAndMultipart(t *testing.T) {
	srv := micropubtest.New(t)
	n := configured(t, srv, "format", "form")
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "form note"}, "k1"); err != nil {
		t.Fatal(err)
	}
	srv2 := micropubtest.New(t)
	srv2.NoMediaEndpoint = true
	n2 := configured(t, srv2)
	if _, err := n2.Publish(plugintest.Context(t), sdk.Post{Text: "with a file", Media: []sdk.Media{plugintest.Attachment(png1, "image/png", "")}}, "k2"); err != nil {
		t.Fatal(err)
	}
	if p := srv.Posts()[0]; p.Content() != "form note" || !strings.HasSuffix(p.URL, "/"+micropub.Slug("k1")) {
		t.Errorf("form post %+v", p)
	}
	p := srv2.Posts()[0]
	if ups := srv2.Uploads(); len(ups) != 1 || p.Properties["photo"][0] != ups[0].URL || srv2.Count("media") != 0 {
		t.Errorf("multipart post %+v uploads %+v", p, ups)
	}
}

// The endpoint is found from the site's Link header or its HTML, relative to the page.
func TestDiscovery(t *testing.T) {
	for _, where := range []string{"header", "html"} {
		srv := micropubtest.New(t)
		srv.Discovery = where
		n := configured(t, srv)
		if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: where}, "k"); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
	}
	srv := micropubtest.New(t)
	srv.Fail(micropubtest.Fault{Path: "/", Status: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html>no endpoint</html>"})
	err := micropub.New().Configure(plugintest.Context(t), map[string]string{"site": srv.URL, "token": srv.Token})
	plugintest.WantKind(t, err, sdk.Permanent, `names no Micropub endpoint`)
}

// The site's refusals are typed; the token is never in a message.
func TestErrorsAreTyped(t *testing.T) {
	srv := micropubtest.New(t)
	ctx := plugintest.Context(t)
	err := micropub.New().Configure(ctx, map[string]string{"site": srv.URL, "token": "nope"})
	plugintest.WantKind(t, err, sdk.Auth, "does not take the token")
	weak := configured(t, srv, "token", srv.IssueToken("media"))
	_, err = weak.Publish(ctx, sdk.Post{Text: "x"}, "k")
	plugintest.WantKind(t, err, sdk.Auth, "lacks a scope")
	n := configured(t, srv, "state_dir", t.TempDir())
	for _, tc := range []struct {
		f     micropubtest.Fault
		kind  sdk.ErrorKind
		want  string
		after time.Duration
	}{
		{micropubtest.Fault{Method: "POST", Path: "/micropub", Status: 400, Body: `{"error":"invalid_request","error_description":"content is too long"}`}, sdk.Permanent, "content is too long", 0},
		{micropubtest.Fault{Method: "POST", Path: "/micropub", Status: 429, Header: http.Header{"Retry-After": {"120"}}, Body: `{"error":"too_many"}`}, sdk.RateLimited, "too_many", 2 * time.Minute},
	} {
		srv.Fail(tc.f)
		_, err := n.Publish(ctx, sdk.Post{Text: "t"}, "k-"+tc.want)
		if e := plugintest.WantKind(t, err, tc.kind, tc.want); e != nil && e.RetryAfter != tc.after {
			t.Errorf("retry after %s", e.RetryAfter)
		}
		// A refusal made nothing: the key is free again and not found.
		if _, found, err := n.Lookup(ctx, "k-"+tc.want); found || err != nil {
			t.Errorf("Lookup after a refusal = %v, %v", found, err)
		}
	}
	for _, err := range []error{err} {
		if err != nil && strings.Contains(err.Error(), srv.Token) {
			t.Errorf("the token is in %v", err)
		}
	}
	ps, _ := n.Validate(ctx, sdk.Post{Text: "t", Link: "ftp://x", Media: []sdk.Media{{MimeType: "video/mp4", Size: 20 << 20}}})
	if len(ps) != 3 {
		t.Fatalf("problems %v", ps)
	}
}

// The answer is lost after the site made the post. A new process finds it in the site's
// list of posts by its slug, and publishing again returns it.
func TestLostAnswerIsFoundThroughTheListing(t *testing.T) {
	srv := micropubtest.New(t)
	dir := t.TempDir()
	first := configured(t, srv, "state_dir", dir)
	srv.DropAfterCreate(1)
	_, err := first.Publish(plugintest.Context(t), sdk.Post{Text: "lost"}, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "")
	second := configured(t, srv, "state_dir", dir)
	ctx := plugintest.Context(t)
	r, found, err := second.Lookup(ctx, "k")
	if err != nil || !found || r.RemoteID != srv.Posts()[0].URL {
		t.Fatalf("Lookup = %+v, %v, %v", r, found, err)
	}
	if again, err := second.Publish(ctx, sdk.Post{Text: "lost"}, "k"); err != nil || again != r {
		t.Fatalf("Publish again = %+v, %v", again, err)
	}
	if _, found, err := second.Lookup(ctx, "never"); found || err != nil {
		t.Fatalf("a key never sent: %v %v", found, err)
	}
	if len(srv.Posts()) != 1 {
		t.Fatalf("%d posts", len(srv.Posts()))
	}
}

// A server that cannot list its posts, or that ignored the slug, cannot say: the post
// becomes unknown for a person, and a new publish of the key sends nothing.
func TestCannotTellWithoutListingOrSlug(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*micropubtest.Server)
		want string
	}{
		{"no listing", func(s *micropubtest.Server) { s.NoListing = true }, "does not list its posts"},
		{"slug ignored", func(s *micropubtest.Server) { s.IgnoreSlug = true }, "none of the 1 posts"},
	} {
		srv := micropubtest.New(t)
		tc.set(srv)
		dir := t.TempDir()
		srv.DropAfterCreate(1)
		if _, err := configured(t, srv, "state_dir", dir).Publish(plugintest.Context(t), sdk.Post{Text: "lost"}, "k"); err == nil {
			t.Fatal("Publish succeeded without an answer")
		}
		n := configured(t, srv, "state_dir", dir)
		_, found, err := n.Lookup(plugintest.Context(t), "k")
		plugintest.WantKind(t, err, sdk.Retryable, tc.want)
		if found {
			t.Fatal("found")
		}
		_, err = n.Publish(plugintest.Context(t), sdk.Post{Text: "lost"}, "k")
		plugintest.WantKind(t, err, sdk.Retryable, "cannot tell")
		if len(srv.Posts()) != 1 {
			t.Fatalf("%s: %d posts, want 1", tc.name, len(srv.Posts()))
		}
	}
	// Without state_dir, a key this process never sent cannot be answered for.
	srv := micropubtest.New(t)
	_, _, err := configured(t, srv).Lookup(plugintest.Context(t), "k")
	plugintest.WantKind(t, err, sdk.Retryable, "without state_dir")
}

// Delete sends action=delete with the post's address.
func TestDelete(t *testing.T) {
	srv := micropubtest.New(t)
	n := configured(t, srv)
	ctx := plugintest.Context(t)
	r, err := n.Publish(ctx, sdk.Post{Text: "bye"}, "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Delete(ctx, r.RemoteID); err != nil {
		t.Fatal(err)
	}
	if !srv.Posts()[0].Deleted {
		t.Fatal("not deleted")
	}
}

// The plugin binary passes the conformance kit against the fake site.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-micropub")
	srv := micropubtest.New(t)
	conformance.Run(t, conformance.Config{Binary: bin, Settings: map[string]string{"site": srv.URL, "token": srv.Token, "state_dir": t.TempDir()}})
	if n := srv.Count("create"); n != 1 {
		t.Errorf("%d creates; the kit publishes once", n)
	}
}

// The plugin process dies while the site holds the answer to a post it made; a new
// process, from the same settings, finds the post instead of posting again.
func TestPluginProcessDiesMidPublish(t *testing.T) {
	srv := micropubtest.New(t)
	crashtest.KillMidPublish(t, crashtest.Case[micropubtest.Post]{
		Binary:   "github.com/tact-hq/tact/cmd/tact-plugin-micropub",
		Account:  "site",
		Settings: map[string]string{"site": srv.URL, "token": srv.Token, "state_dir": t.TempDir()},
		Post:     sdk.Post{Text: "held"},
		Key:      "campaign-1/post-4",
		Network:  "the site",
		Hold:     srv.HoldCreates.Store,
		Made:     srv.Posts,
		ID:       func(p micropubtest.Post) string { return p.URL },
	})
}

package bluesky_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/bluesky"
	"github.com/tact-hq/tact/plugins/bluesky/blueskytest"
	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
)

func newServer(t *testing.T) *blueskytest.Server {
	srv := blueskytest.New()
	t.Cleanup(srv.Close)
	return srv
}

func configured(t *testing.T, srv *blueskytest.Server, opts ...bluesky.Option) *bluesky.Network {
	t.Helper()
	n := bluesky.New(opts...)
	if err := n.Configure(plugintest.Context(t), map[string]string{"service": srv.URL, "identifier": srv.Handle, "app_password": srv.AppPassword}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return n
}

func TestRecordKeyIsADeterministicTID(t *testing.T) {
	tid := regexp.MustCompile(`^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$`)
	seen := map[string]string{}
	for _, k := range []string{"", "a", "b", "campaign/42/post/7", strings.Repeat("x", 1000)} {
		rk := bluesky.RecordKey(k)
		if !tid.MatchString(rk) {
			t.Errorf("RecordKey(%q) = %q, not a TID", k, rk)
		}
		if rk != bluesky.RecordKey(k) {
			t.Errorf("RecordKey(%q) is not deterministic", k)
		}
		if prev, dup := seen[rk]; dup {
			t.Errorf("RecordKey(%q) = RecordKey(%q)", k, prev)
		}
		seen[rk] = k
	}
}

func TestConfigure(t *testing.T) {
	srv := newServer(t)
	n := bluesky.New()
	err := n.Configure(plugintest.Context(t), map[string]string{"service": srv.URL, "identifier": srv.Handle, "app_password": "wrong"})
	plugintest.WantKind(t, err, sdk.Auth, "Invalid identifier or password")
	plugintest.WantKind(t, n.Configure(plugintest.Context(t), map[string]string{"service": srv.URL, "app_password": "x"}), sdk.Permanent, `"identifier" is empty`)
	plugintest.WantKind(t, n.Configure(plugintest.Context(t), map[string]string{"service": srv.URL, "identifier": "a.test"}), sdk.Permanent, `"app_password" is empty`)
	plugintest.WantKind(t, n.Configure(plugintest.Context(t), map[string]string{"service": "bsky.social", "identifier": "a", "app_password": "b"}), sdk.Permanent, "PDS base URL")
	plugintest.WantKind(t, n.Configure(plugintest.Context(t), map[string]string{"password": "b"}), sdk.Permanent, `unknown setting "password"`)
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k"); err == nil {
		t.Fatal("Publish without a session succeeded")
	}
	d, _ := n.Describe(plugintest.Context(t))
	if d.MaxLength != 300 || d.Counting != sdk.CountGraphemes || d.MaxMedia != 4 {
		t.Fatalf("Describe = %+v", d)
	}
}

func TestPublishWithFacetsAtByteOffsets(t *testing.T) {
	srv := newServer(t)
	srv.Handles["bob.example.com"] = "did:plc:bob"
	n := configured(t, srv)
	text := "Été 🌞 à Lisbonne 👨‍👩‍👧 : https://tact.example/été?x=1. Merci @bob.example.com et @nobody.example.org !"
	r, err := n.Publish(plugintest.Context(t), sdk.Post{Text: text, Link: "https://tact.example/offre", Language: "fr"}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	recs := srv.Records()
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	rec := recs[0]
	if rec.Text != text+"\n\nhttps://tact.example/offre" {
		t.Fatalf("text = %q", rec.Text)
	}
	if len(rec.Langs) != 1 || rec.Langs[0] != "fr" {
		t.Fatalf("langs = %v", rec.Langs)
	}
	// Each facet's byte range must cut exactly its target out of the UTF-8 text.
	want := map[string]string{
		"https://tact.example/été?x=1": "link:https://tact.example/été?x=1",
		"https://tact.example/offre":   "link:https://tact.example/offre",
		"@bob.example.com":             "mention:did:plc:bob",
	}
	if len(rec.Facets) != len(want) {
		t.Fatalf("facets = %+v, want %d (the unresolvable @nobody gets none)", rec.Facets, len(want))
	}
	for _, f := range rec.Facets {
		span := rec.Text[f.Index.ByteStart:f.Index.ByteEnd]
		feat := f.Features[0]
		got := strings.TrimPrefix(feat.Type, "app.bsky.richtext.facet#") + ":" + feat.URI + feat.DID
		if want[span] != got {
			t.Errorf("facet [%d,%d) covers %q as %s", f.Index.ByteStart, f.Index.ByteEnd, span, got)
		}
	}
	if !strings.HasSuffix(r.RemoteID, "/app.bsky.feed.post/"+bluesky.RecordKey("k1")) || !strings.HasPrefix(r.RemoteID, "at://did:plc:alice/") {
		t.Fatalf("RemoteID = %q", r.RemoteID)
	}
	if r.URL != "https://bsky.app/profile/alice.test/post/"+bluesky.RecordKey("k1") || r.PublishedAt.IsZero() {
		t.Fatalf("receipt = %+v", r)
	}
}

func TestRepeatedKeyGivesTheOriginalReceipt(t *testing.T) {
	for _, dup := range []int{http.StatusInternalServerError, http.StatusBadRequest} {
		srv := newServer(t)
		srv.DuplicateStatus = dup
		now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
		n := configured(t, srv, bluesky.WithClock(func() time.Time { return now }))
		first, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "once"}, "same")
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour) // a retry, later, in another process
		again, err := configured(t, srv, bluesky.WithClock(func() time.Time { return now })).Publish(plugintest.Context(t), sdk.Post{Text: "once"}, "same")
		if err != nil || again != first {
			t.Fatalf("duplicate answered %d: repeat = %+v, %v; want %+v", dup, again, err, first)
		}
		if len(srv.Records()) != 1 {
			t.Fatalf("%d records, want 1", len(srv.Records()))
		}
	}
}

func TestCrashAfterCreateIsFoundByLookup(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv)
	srv.DropAfterCreate(1)
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "the answer was lost"}, "lost")
	if err == nil {
		// The plugin itself recovered it through getRecord: also fine, as long as it is one post.
		t.Log("Publish recovered the receipt itself")
	}
	restarted := configured(t, srv)
	r, found, err := restarted.Lookup(plugintest.Context(t), "lost")
	if err != nil || !found || !strings.HasSuffix(r.RemoteID, bluesky.RecordKey("lost")) {
		t.Fatalf("Lookup = %+v, %v, %v", r, found, err)
	}
	if _, err := restarted.Publish(plugintest.Context(t), sdk.Post{Text: "the answer was lost"}, "lost"); err != nil {
		t.Fatal(err)
	}
	if len(srv.Records()) != 1 {
		t.Fatalf("%d records, want 1", len(srv.Records()))
	}
	if _, found, err := restarted.Lookup(plugintest.Context(t), "never"); err != nil || found {
		t.Fatalf("Lookup(never) = %v, %v; want not found", found, err)
	}
}

func TestExpiredSessionIsRenewed(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv)

	srv.ExpireAccessTokens()
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "after expiry"}, "e1"); err != nil {
		t.Fatal(err)
	}
	if srv.Calls("com.atproto.server.refreshSession") != 1 || srv.Calls("com.atproto.server.createSession") != 1 {
		t.Fatalf("refresh %d, create %d; want one refresh", srv.Calls("com.atproto.server.refreshSession"), srv.Calls("com.atproto.server.createSession"))
	}

	srv.ExpireAccessTokens()
	srv.ExpireRefreshTokens()
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "after both expired"}, "e2"); err != nil {
		t.Fatal(err)
	}
	if srv.Calls("com.atproto.server.createSession") != 2 {
		t.Fatalf("createSession called %d times, want a new login", srv.Calls("com.atproto.server.createSession"))
	}
	if len(srv.Records()) != 2 {
		t.Fatalf("%d records, want 2", len(srv.Records()))
	}

	// The app password was revoked meanwhile: now it is the account's problem.
	srv.ExpireAccessTokens()
	srv.ExpireRefreshTokens()
	srv.AppPassword = "revoked"
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "no way"}, "e3")
	plugintest.WantKind(t, err, sdk.Auth, "app_password")
	if len(srv.Records()) != 2 {
		t.Fatal("a record was created without a session")
	}
}

func TestErrorsAreTyped(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	srv := newServer(t)
	n := configured(t, srv, bluesky.WithClock(func() time.Time { return now }))
	post := sdk.Post{Text: "hello"}

	srv.Fail(blueskytest.Fault{NSID: "com.atproto.repo.createRecord", Status: 429,
		Header: http.Header{"Ratelimit-Limit": {"5000"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"1795420920"}, "Ratelimit-Policy": {"5000;w=3600"}},
		Body:   `{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}`})
	_, err := n.Publish(plugintest.Context(t), post, "r")
	if e := plugintest.WantKind(t, err, sdk.RateLimited, "Rate Limit Exceeded"); e.RetryAfter != time.Unix(1795420920, 0).Sub(now) {
		t.Fatalf("RetryAfter = %s, want %s", e.RetryAfter, time.Unix(1795420920, 0).Sub(now))
	}

	srv.Fail(blueskytest.Fault{NSID: "com.atproto.repo.createRecord", Status: 502, Body: `{"error":"UpstreamFailure","message":"upstream down"}`})
	_, err = n.Publish(plugintest.Context(t), post, "r")
	plugintest.WantKind(t, err, sdk.Retryable, "upstream down")

	srv.Fail(blueskytest.Fault{NSID: "com.atproto.repo.createRecord", Status: 400, Body: `{"error":"InvalidRequest","message":"Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"}`})
	_, err = n.Publish(plugintest.Context(t), post, "r")
	plugintest.WantKind(t, err, sdk.Permanent, "300 graphemes")
	if len(srv.Records()) != 0 {
		t.Fatal("a failed publish created a record")
	}
	if _, err := n.Publish(plugintest.Context(t), post, "r"); err != nil {
		t.Fatalf("retry after the errors: %v", err)
	}
	srv.Close()
	_, err = n.Publish(plugintest.Context(t), post, "r2")
	plugintest.WantKind(t, err, sdk.Retryable, "")
}

func TestValidateCountsGraphemesAndBytes(t *testing.T) {
	n := bluesky.New()
	img := sdk.Media{MimeType: "image/png", Size: 4} // as Validate gets it: no bytes
	big := sdk.Media{MimeType: "image/jpeg", Size: 1_000_001}
	family := "👨‍👩‍👧" // one grapheme, 18 bytes
	tests := []struct {
		name string
		post sdk.Post
		want string
	}{
		{"300 graphemes of families fit", sdk.Post{Text: strings.Repeat(family, 166)}, ""},
		{"but not 3000 bytes", sdk.Post{Text: strings.Repeat(family, 167)}, "bytes in UTF-8"},
		{"300 accented letters", sdk.Post{Text: strings.Repeat("é", 300)}, ""},
		{"301", sdk.Post{Text: strings.Repeat("é", 301)}, "is 301 characters"},
		{"the appended link counts", sdk.Post{Text: strings.Repeat("a", 280), Link: "https://tact.example/x"}, "is 304 characters"},
		{"an image", sdk.Post{Text: "x", Media: []sdk.Media{img}}, ""},
		{"video refused", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "video/mp4", Size: 4}}}, "not an image Bluesky accepts"},
		{"too big", sdk.Post{Text: "x", Media: []sdk.Media{big}}, "Bluesky takes at most 976.6 KiB"},
		{"five images", sdk.Post{Text: "x", Media: []sdk.Media{img, img, img, img, img}}, "allows 4 images"},
		{"empty", sdk.Post{}, "empty"},
	}
	for _, tt := range tests {
		problems, err := n.Validate(plugintest.Context(t), tt.post)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, p := range problems {
			got += p.String() + "; "
		}
		if (tt.want == "") != (len(problems) == 0) || !strings.Contains(got, tt.want) {
			t.Errorf("%s: problems %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestImagesAreUploadedAndEmbedded(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv)
	img := plugintest.Attachment([]byte("\x89PNG fake"), "image/png", "a chart")
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "look", Media: []sdk.Media{img}}, "img"); err != nil {
		t.Fatal(err)
	}
	var embed struct {
		Type   string `json:"$type"`
		Images []struct {
			Alt   string `json:"alt"`
			Image struct {
				Type     string `json:"$type"`
				MimeType string `json:"mimeType"`
				Size     int    `json:"size"`
			} `json:"image"`
		} `json:"images"`
	}
	if err := json.Unmarshal(srv.Records()[0].Embed, &embed); err != nil {
		t.Fatal(err)
	}
	if embed.Type != "app.bsky.embed.images" || len(embed.Images) != 1 || embed.Images[0].Alt != "a chart" ||
		embed.Images[0].Image.MimeType != "image/png" || embed.Images[0].Image.Size != 9 {
		t.Fatalf("embed = %+v", embed)
	}
	// A repeat does not upload again.
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "look", Media: []sdk.Media{img}}, "img"); err != nil {
		t.Fatal(err)
	}
	if srv.Calls("com.atproto.repo.uploadBlob") != 1 || len(srv.Records()) != 1 {
		t.Fatalf("uploads %d, records %d; want 1 and 1", srv.Calls("com.atproto.repo.uploadBlob"), len(srv.Records()))
	}
}

func TestDelete(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv)
	r, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "bye"}, "d")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Delete(plugintest.Context(t), r.RemoteID); err != nil {
		t.Fatal(err)
	}
	if len(srv.Records()) != 0 {
		t.Fatal("record still there")
	}
	if _, found, err := n.Lookup(plugintest.Context(t), "d"); err != nil || found {
		t.Fatalf("Lookup after Delete = %v, %v", found, err)
	}
	if err := n.Delete(plugintest.Context(t), r.RemoteID); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	plugintest.WantKind(t, n.Delete(plugintest.Context(t), "at://did:plc:someone/app.bsky.feed.post/abc"), sdk.Permanent, "not a post of this account")
}

// Several publishes that all meet the expired token renew the session once between them.
func TestConcurrentCallsShareOneRenewal(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv)
	srv.ExpireAccessTokens()
	errs := make(chan error, 5)
	for i := range 5 {
		go func() {
			_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "parallel"}, "p"+string(rune('a'+i)))
			errs <- err
		}()
	}
	for range 5 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if r, c := srv.Calls("com.atproto.server.refreshSession"), srv.Calls("com.atproto.server.createSession"); r != 1 || c != 1 {
		t.Fatalf("refreshSession %d, createSession %d; want one refresh and no new login", r, c)
	}
	if len(srv.Records()) != 5 {
		t.Fatalf("%d records, want 5", len(srv.Records()))
	}
}

func TestHandleResolutionFailureIsRetryable(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv)
	srv.Fail(blueskytest.Fault{NSID: "com.atproto.identity.resolveHandle", Status: 503, Body: `{"error":"InternalServerError","message":"resolver down"}`})
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "hi @bob.example.com"}, "m")
	plugintest.WantKind(t, err, sdk.Retryable, "resolver down")
	if len(srv.Records()) != 0 {
		t.Fatal("posted without the mention's facet")
	}
}

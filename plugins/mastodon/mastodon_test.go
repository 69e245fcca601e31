package mastodon_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/mastodon"
	"github.com/tact-hq/tact/plugins/mastodon/mastodontest"
	"github.com/tact-hq/tact/plugins/sdk"
)

func settings(srv *mastodontest.Server, extra ...string) map[string]string {
	s := map[string]string{"server": srv.URL, "token": srv.Token}
	for i := 0; i+1 < len(extra); i += 2 {
		s[extra[i]] = extra[i+1]
	}
	return s
}

// configured returns a Network configured against srv.
func configured(t *testing.T, srv *mastodontest.Server, opts []mastodon.Option, extra ...string) *mastodon.Network {
	t.Helper()
	n := mastodon.New(append([]mastodon.Option{mastodon.WithMediaPolling(time.Millisecond, 10*time.Second)}, opts...)...)
	if err := n.Configure(plugintest.Context(t), settings(srv, extra...)); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return n
}

func newServer(t *testing.T) *mastodontest.Server {
	srv := mastodontest.New()
	t.Cleanup(srv.Close)
	return srv
}

func TestConfigureChecksSettingsAndToken(t *testing.T) {
	srv := newServer(t)
	n := mastodon.New()
	plugintest.WantKind(t, n.Configure(plugintest.Context(t), map[string]string{"server": srv.URL, "token": "wrong"}), sdk.Auth, "The access token is invalid")
	plugintest.WantKind(t, n.Configure(plugintest.Context(t), map[string]string{"token": "x"}), sdk.Permanent, `setting "server"`)
	plugintest.WantKind(t, n.Configure(plugintest.Context(t), map[string]string{"server": "social.example", "token": "x"}), sdk.Permanent, "base URL")
	plugintest.WantKind(t, n.Configure(plugintest.Context(t), settings(srv, "visibility", "friends")), sdk.Permanent, "public, unlisted, private or direct")
	plugintest.WantKind(t, n.Configure(plugintest.Context(t), settings(srv, "servr", "x")), sdk.Permanent, `unknown setting "servr"`)
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "hi"}, "k"); err == nil {
		t.Fatal("Publish after failed Configure succeeded")
	}
	if len(srv.Statuses()) != 0 {
		t.Fatal("a status was posted")
	}
}

func TestDescribeReportsServerLimits(t *testing.T) {
	srv := newServer(t)
	d, _ := mastodon.New().Describe(plugintest.Context(t))
	if d.MaxLength != 500 || d.MaxMedia != 4 || d.Counting != sdk.CountMastodon || d.Name != "mastodon" {
		t.Fatalf("unconfigured Describe = %+v, want Mastodon defaults", d)
	}
	srv.MaxCharacters, srv.MaxMedia = 5000, 6
	d, _ = configured(t, srv, nil).Describe(plugintest.Context(t))
	if d.MaxLength != 5000 || d.MaxMedia != 6 || len(d.MediaTypes) != len(srv.MediaTypes) {
		t.Fatalf("Describe = %+v, want the server's v2 limits", d)
	}
	pleroma := newServer(t)
	pleroma.NoV2Instance, pleroma.MaxCharacters = true, 5000
	d, _ = configured(t, pleroma, nil).Describe(plugintest.Context(t))
	if d.MaxLength != 5000 {
		t.Fatalf("MaxLength = %d, want max_toot_chars from /api/v1/instance", d.MaxLength)
	}
}

func TestValidate(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	img := sdk.Media{ID: strings.Repeat("a", 64), MimeType: "image/png", Size: 2048} // as Validate gets it: no bytes
	long := "https://example.com/" + strings.Repeat("x", 600)
	tests := []struct {
		name string
		post sdk.Post
		want []string // substrings, one per expected problem
	}{
		{"fits thanks to URL weighting", sdk.Post{Text: strings.Repeat("a", 470) + " " + long}, nil},
		{"link appended counts 23", sdk.Post{Text: strings.Repeat("a", 475), Link: long}, nil},
		{"one over", sdk.Post{Text: strings.Repeat("a", 476), Link: long}, []string{"text: is 501 characters"}},
		{"remote mentions count as local", sdk.Post{Text: "@bob@very.long.example.social " + strings.Repeat("a", 495)}, nil},
		{"empty", sdk.Post{}, []string{"text: the post is empty"}},
		{"bad link", sdk.Post{Text: "x", Link: "javascript:alert(1)"}, []string{"link:"}},
		{"an image", sdk.Post{Text: "x", Media: []sdk.Media{img}}, nil},
		{"too many media", sdk.Post{Text: "x", Media: []sdk.Media{img, img, img, img, img}}, []string{"media: 5 attachments; this server allows 4"}},
		{"image over the server's limit", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "image/png", Size: 17 << 20}}}, []string{"media[0]: the file is 17.0 MiB; this server takes at most 16.0 MiB"}},
		{"video within the video limit", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "video/mp4", Size: 50 << 20}}}, nil},
		{"refused type", sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "application/pdf", Size: 10}}}, []string{"media[0]: type application/pdf is not accepted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, err := n.Validate(plugintest.Context(t), tt.post)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != len(tt.want) {
				t.Fatalf("problems = %v, want %d", problems, len(tt.want))
			}
			for _, w := range tt.want {
				found := false
				for _, p := range problems {
					found = found || strings.Contains(p.String(), w)
				}
				if !found {
					t.Errorf("problems %v do not mention %q", problems, w)
				}
			}
		})
	}
}

func TestPublishPostsOnceAndReturnsTheStatus(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "visibility", "unlisted", "language", "fr")
	post := sdk.Post{Text: "Bonjour", Link: "https://tact.example/p/1", Language: "en-GB"}
	r, err := n.Publish(plugintest.Context(t), post, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Statuses()
	if len(got) != 1 {
		t.Fatalf("%d statuses, want 1", len(got))
	}
	st := got[0]
	if st.Text != "Bonjour\n\nhttps://tact.example/p/1" || st.Visibility != "unlisted" || st.Language != "en" || st.IdemKey != "key-1" {
		t.Fatalf("status = %+v", st)
	}
	if r.RemoteID != st.ID || r.URL != srv.URL+"/@tact/"+st.ID || r.PublishedAt.IsZero() {
		t.Fatalf("receipt = %+v for status %s", r, st.ID)
	}

	// Same key again, same process: the receipt, no second post.
	again, err := n.Publish(plugintest.Context(t), post, "key-1")
	if err != nil || again != r {
		t.Fatalf("repeat = %+v, %v; want %+v", again, err, r)
	}
	// Same key from a fresh process without state: Mastodon honours Idempotency-Key.
	fresh := configured(t, srv, nil)
	again, err = fresh.Publish(plugintest.Context(t), post, "key-1")
	if err != nil || again.RemoteID != r.RemoteID {
		t.Fatalf("repeat from a new process = %+v, %v; want id %s", again, err, r.RemoteID)
	}
	if n := len(srv.Statuses()); n != 1 {
		t.Fatalf("%d statuses after repeats, want 1", n)
	}
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "other"}, "key-2"); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Statuses()); n != 2 {
		t.Fatalf("%d statuses, want 2", n)
	}
}

func TestPublishWaitsForMediaProcessing(t *testing.T) {
	srv := newServer(t)
	srv.ProcessingPolls = 2
	n := configured(t, srv, nil)
	img := plugintest.Attachment([]byte("\xff\xd8\xff\xe0fake jpeg"), "image/jpeg", "a cat")
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "with a photo", Media: []sdk.Media{img}}, "m1"); err != nil {
		t.Fatal(err)
	}
	st := srv.Statuses()
	if len(st) != 1 || len(st[0].MediaIDs) != 1 || st[0].MediaAlts[0] != "a cat" || st[0].MediaTypes[0] != "image/jpeg" {
		t.Fatalf("statuses = %+v, want one with the described jpeg", st)
	}
	if up := srv.Uploads(); len(up) != 1 || !bytes.Equal(up[0], img.Data) {
		t.Fatalf("the server received %d uploads; want the attachment's exact bytes once", len(up))
	}
	if got := srv.Count("GET", "/api/v1/media/"); got != 3 {
		t.Fatalf("polled %d times, want 3 (two 206, one 200)", got)
	}
}

// The server's own image limit (configuration.media_attachments.image_size_limit) is what
// Validate holds a post to, so a marketer hears of it before approval, not at publish time.
func TestValidateUsesTheServersSizeLimit(t *testing.T) {
	srv := newServer(t)
	srv.ImageSizeLimit = 1024
	n := configured(t, srv, nil)
	problems, err := n.Validate(plugintest.Context(t), sdk.Post{Text: "x", Media: []sdk.Media{{MimeType: "image/png", Size: 2048}}})
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0].String(), "media[0]: the file is 2.0 KiB; this server takes at most 1.0 KiB") {
		t.Fatalf("Validate = %v, %v; want the server's 1 KiB limit", problems, err)
	}
	// Publish refuses it too, without uploading, should Validate have been skipped.
	big := plugintest.Attachment(bytes.Repeat([]byte{0x89}, 2048), "image/png", "")
	_, err = n.Publish(plugintest.Context(t), sdk.Post{Text: "x", Media: []sdk.Media{big}}, "big")
	plugintest.WantKind(t, err, sdk.Permanent, "this server takes at most 1.0 KiB")
	if len(srv.Uploads()) != 0 {
		t.Fatal("an attachment over the limit was uploaded")
	}
}

func TestErrorsAreTyped(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	clock := mastodon.WithClock(func() time.Time { return now })
	post := sdk.Post{Text: "hello"}

	t.Run("429 with X-RateLimit-Reset", func(t *testing.T) {
		srv := newServer(t)
		n := configured(t, srv, []mastodon.Option{clock})
		srv.Fail(mastodontest.Fault{Method: "POST", Path: "/api/v1/statuses", Status: 429, Body: `{"error":"Too many requests"}`,
			Header: http.Header{"X-Ratelimit-Limit": {"300"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"2026-11-22T09:02:30.000Z"}}})
		_, err := n.Publish(plugintest.Context(t), post, "k")
		if e := plugintest.WantKind(t, err, sdk.RateLimited, "Too many requests"); e.RetryAfter != 150*time.Second {
			t.Fatalf("RetryAfter = %s, want 2m30s", e.RetryAfter)
		}
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		srv := newServer(t)
		n := configured(t, srv, []mastodon.Option{clock})
		srv.Fail(mastodontest.Fault{Method: "POST", Path: "/api/v1/statuses", Status: 429, Header: http.Header{"Retry-After": {"42"}}, Body: `{"error":"Too many requests"}`})
		_, err := n.Publish(plugintest.Context(t), post, "k")
		if e := plugintest.WantKind(t, err, sdk.RateLimited, ""); e.RetryAfter != 42*time.Second {
			t.Fatalf("RetryAfter = %s, want 42s", e.RetryAfter)
		}
	})
	t.Run("5xx", func(t *testing.T) {
		srv := newServer(t)
		n := configured(t, srv, nil)
		srv.Fail(mastodontest.Fault{Method: "POST", Path: "/api/v1/statuses", Status: 503, Body: "<html>Bad gateway</html>"})
		_, err := n.Publish(plugintest.Context(t), post, "k")
		plugintest.WantKind(t, err, sdk.Retryable, "503")
		// The retry succeeds and posts exactly once.
		if _, err := n.Publish(plugintest.Context(t), post, "k"); err != nil {
			t.Fatal(err)
		}
		if len(srv.Statuses()) != 1 {
			t.Fatalf("%d statuses, want 1", len(srv.Statuses()))
		}
	})
	t.Run("422 refusal", func(t *testing.T) {
		srv := newServer(t)
		n := configured(t, srv, nil)
		srv.MaxCharacters = 3 // the server changed its mind after Configure read 500
		_, err := n.Publish(plugintest.Context(t), post, "k")
		plugintest.WantKind(t, err, sdk.Permanent, "Text character limit of 3 exceeded")
	})
	t.Run("400 refusal (GoToSocial)", func(t *testing.T) {
		srv := newServer(t)
		srv.RefusalStatus = http.StatusBadRequest
		n := configured(t, srv, nil)
		srv.MaxCharacters = 3
		_, err := n.Publish(plugintest.Context(t), post, "k")
		plugintest.WantKind(t, err, sdk.Permanent, "Text character limit of 3 exceeded")
	})
	t.Run("401 revoked token", func(t *testing.T) {
		srv := newServer(t)
		n := configured(t, srv, nil)
		srv.Revoke()
		_, err := n.Publish(plugintest.Context(t), post, "k")
		plugintest.WantKind(t, err, sdk.Auth, "The access token is invalid")
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := newServer(t)
		n := configured(t, srv, nil)
		srv.Close()
		_, err := n.Publish(plugintest.Context(t), post, "k")
		plugintest.WantKind(t, err, sdk.Retryable, "")
	})
	t.Run("invalid post is refused before sending", func(t *testing.T) {
		srv := newServer(t)
		n := configured(t, srv, nil)
		_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: strings.Repeat("a", 501)}, "k")
		plugintest.WantKind(t, err, sdk.Permanent, "501 characters")
		if srv.Count("POST", "/api/v1/statuses") != 0 {
			t.Fatal("an invalid post was sent")
		}
	})
}

func TestDelete(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	r, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "to be removed"}, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Delete(plugintest.Context(t), r.RemoteID); err != nil {
		t.Fatal(err)
	}
	if len(srv.Statuses()) != 0 {
		t.Fatal("status still there after Delete")
	}
	if err := n.Delete(plugintest.Context(t), r.RemoteID); err != nil {
		t.Fatalf("deleting a status already gone: %v", err)
	}
	srv.Revoke()
	plugintest.WantKind(t, n.Delete(plugintest.Context(t), "123"), sdk.Auth, "")
}

func TestLookup(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	n := configured(t, srv, nil, "state_dir", dir)
	r, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "findable"}, "l1")
	if err != nil {
		t.Fatal(err)
	}
	got, found, err := n.Lookup(plugintest.Context(t), "l1")
	if err != nil || !found || got != r {
		t.Fatalf("Lookup(l1) = %+v, %v, %v; want %+v", got, found, err, r)
	}
	if _, found, err := n.Lookup(plugintest.Context(t), "never-sent"); err != nil || found {
		t.Fatalf("Lookup(never-sent) = %v, %v; want not found", found, err)
	}
	// A new process reading the same state_dir knows the same.
	restarted := configured(t, srv, nil, "state_dir", dir)
	got, found, err = restarted.Lookup(plugintest.Context(t), "l1")
	if err != nil || !found || got.RemoteID != r.RemoteID || got.URL != r.URL {
		t.Fatalf("Lookup(l1) after restart = %+v, %v, %v; want %+v", got, found, err, r)
	}
	if _, found, err := restarted.Lookup(plugintest.Context(t), "never-sent"); err != nil || found {
		t.Fatalf("Lookup(never-sent) after restart = %v, %v; want not found", found, err)
	}

	// Without state_dir, a new process cannot tell about keys it did not send.
	stateless := configured(t, srv, nil)
	_, _, err = stateless.Lookup(plugintest.Context(t), "l1")
	if err == nil || !strings.Contains(err.Error(), "cannot tell") || !strings.Contains(err.Error(), "state_dir") {
		t.Fatalf("stateless Lookup error = %v, want cannot tell + state_dir", err)
	}
}

// TestCrashRecoveryOnServerIgnoringIdempotencyKey is the double-post scenario: the server
// (GoToSocial-like) creates the status but the answer never arrives because the plugin
// process dies; the daemon restarts the plugin and asks Lookup, then may retry Publish.
func TestCrashRecoveryOnServerIgnoringIdempotencyKey(t *testing.T) {
	srv := newServer(t)
	srv.IgnoreIdempotencyKey, srv.RefusalStatus = true, http.StatusBadRequest
	dir := t.TempDir()
	text := "Flights to Lisbon <from> 49€ & more!\nBook: https://tact.example/a/very/long/path/to/the/offer?utm=x\n\ncc @ana@pt.example #travel"

	// An earlier post with the very same text belongs to another key: it must not be taken.
	first := configured(t, srv, nil, "state_dir", dir)
	earlier, err := first.Publish(plugintest.Context(t), sdk.Post{Text: text}, "campaign-1/post-1")
	if err != nil {
		t.Fatal(err)
	}

	crashed := configured(t, srv, nil, "state_dir", dir)
	srv.DropAfterCreate(1)
	_, err = crashed.Publish(plugintest.Context(t), sdk.Post{Text: text}, "campaign-1/post-2")
	plugintest.WantKind(t, err, sdk.Retryable, "")
	srv.AddStatus("something posted by hand meanwhile")
	if n := len(srv.Statuses()); n != 3 {
		t.Fatalf("%d statuses, want 3", n)
	}
	created := srv.Statuses()[1]

	restarted := configured(t, srv, nil, "state_dir", dir)
	r, found, err := restarted.Lookup(plugintest.Context(t), "campaign-1/post-2")
	if err != nil || !found || r.RemoteID != created.ID {
		t.Fatalf("Lookup after crash = %+v, %v, %v; want status %s (not %s)", r, found, err, created.ID, earlier.RemoteID)
	}
	// The daemon, or a person, retries Publish: still no second post.
	again, err := restarted.Publish(plugintest.Context(t), sdk.Post{Text: text}, "campaign-1/post-2")
	if err != nil || again.RemoteID != created.ID {
		t.Fatalf("Publish after recovery = %+v, %v; want status %s", again, err, created.ID)
	}
	// Even a Publish retried without Lookup, in yet another process, finds it.
	srv.DropAfterCreate(1)
	_, _ = restarted.Publish(plugintest.Context(t), sdk.Post{Text: "second crash"}, "k3")
	other := configured(t, srv, nil, "state_dir", dir)
	r3, err := other.Publish(plugintest.Context(t), sdk.Post{Text: "second crash"}, "k3")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Statuses()); n != 4 {
		t.Fatalf("%d statuses, want 4: a retry posted twice", n)
	}
	if r3.RemoteID != srv.Statuses()[3].ID {
		t.Fatalf("receipt %s, want %s", r3.RemoteID, srv.Statuses()[3].ID)
	}
}

func TestCrashBeforeTheServerActedIsNotFound(t *testing.T) {
	srv := newServer(t)
	srv.IgnoreIdempotencyKey = true
	dir := t.TempDir()
	crashed := configured(t, srv, nil, "state_dir", dir)
	srv.Fail(mastodontest.Fault{Method: "POST", Path: "/api/v1/statuses", Status: 502, Body: "bad gateway"})
	_, err := crashed.Publish(plugintest.Context(t), sdk.Post{Text: "never arrived"}, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "502")

	restarted := configured(t, srv, nil, "state_dir", dir)
	if _, found, err := restarted.Lookup(plugintest.Context(t), "k"); err != nil || found {
		t.Fatalf("Lookup = %v, %v; want not found", found, err)
	}
	if _, err := restarted.Publish(plugintest.Context(t), sdk.Post{Text: "never arrived"}, "k"); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Statuses()); n != 1 {
		t.Fatalf("%d statuses, want 1", n)
	}
}

func TestLookupCannotTellAfterTooManyStatuses(t *testing.T) {
	srv := newServer(t)
	srv.IgnoreIdempotencyKey = true
	dir := t.TempDir()
	crashed := configured(t, srv, nil, "state_dir", dir)
	srv.Fail(mastodontest.Fault{Method: "POST", Path: "/api/v1/statuses", Status: 504, Body: "timeout"})
	_, _ = crashed.Publish(plugintest.Context(t), sdk.Post{Text: "lost in the crowd"}, "k")
	for i := 0; i < 201; i++ {
		srv.AddStatus("busy account")
	}
	restarted := configured(t, srv, nil, "state_dir", dir)
	_, found, err := restarted.Lookup(plugintest.Context(t), "k")
	if err == nil || found || !strings.Contains(err.Error(), "cannot tell") {
		t.Fatalf("Lookup = %v, %v; want a cannot-tell error", found, err)
	}
}

func TestJournalForgetsOldKeys(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	now := time.Now()
	n := configured(t, srv, []mastodon.Option{mastodon.WithClock(func() time.Time { return now })}, "state_dir", dir)
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "old"}, "old"); err != nil {
		t.Fatal(err)
	}
	later := configured(t, srv, []mastodon.Option{mastodon.WithClock(func() time.Time { return now.Add(31 * 24 * time.Hour) })}, "state_dir", dir)
	files, _ := filepath.Glob(filepath.Join(dir, "mastodon-*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("journal files = %v", files)
	}
	data, _ := os.ReadFile(files[0])
	if len(data) != 0 {
		t.Fatalf("journal still holds %q after 31 days", data)
	}
	if _, found, err := later.Lookup(plugintest.Context(t), "old"); err != nil || found {
		t.Fatalf("Lookup = %v, %v", found, err)
	}
}

// A crash before the server acted, but with a status posted by hand since: the plugin
// cannot be sure the stranger is not its own post changed by the server, so it says so.
func TestLookupCannotTellWithUnmatchedStatusesInTheWindow(t *testing.T) {
	srv := newServer(t)
	srv.IgnoreIdempotencyKey = true
	dir := t.TempDir()
	crashed := configured(t, srv, nil, "state_dir", dir)
	// Statuses other keys published are recognised as theirs, not as strangers.
	for i := 0; i < 45; i++ {
		if _, err := crashed.Publish(plugintest.Context(t), sdk.Post{Text: "earlier " + strings.Repeat("!", i)}, "earlier-"+strings.Repeat("x", i)); err != nil {
			t.Fatal(err)
		}
	}
	srv.Fail(mastodontest.Fault{Method: "POST", Path: "/api/v1/statuses", Status: 502, Body: "bad gateway"})
	_, _ = crashed.Publish(plugintest.Context(t), sdk.Post{Text: "never arrived"}, "k")
	restarted := configured(t, srv, nil, "state_dir", dir)
	if _, found, err := restarted.Lookup(plugintest.Context(t), "k"); err != nil || found {
		t.Fatalf("Lookup with only other keys' statuses = %v, %v; want not found", found, err)
	}
	srv.AddStatus("posted by hand")
	_, found, err := restarted.Lookup(plugintest.Context(t), "k")
	if err == nil || found || !strings.Contains(err.Error(), "1 status(es) posted since then match no text") {
		t.Fatalf("Lookup = %v, %v; want cannot tell", found, err)
	}
}

func TestPublishAsksForPlainText(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "*not markdown*"}, "p"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Statuses()[0].ContentType; got != "text/plain" {
		t.Fatalf("content_type = %q, want text/plain", got)
	}
}

// Concurrent publishes of one key (a daemon bug, or two retries racing) make one status,
// even on a server that ignores Idempotency-Key.
func TestConcurrentPublishesOfOneKey(t *testing.T) {
	srv := newServer(t)
	srv.IgnoreIdempotencyKey = true
	n := configured(t, srv, nil)
	ids := make(chan string, 5)
	for range 5 {
		go func() {
			r, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "racing"}, "same")
			if err != nil {
				t.Error(err)
			}
			ids <- r.RemoteID
		}()
	}
	first := <-ids
	for range 4 {
		if id := <-ids; id != first {
			t.Fatalf("receipts %s and %s for one key", first, id)
		}
	}
	if n := len(srv.Statuses()); n != 1 {
		t.Fatalf("%d statuses, want 1", n)
	}
}

package x_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/x"
	"github.com/tact-hq/tact/plugins/x/xtest"
)

func newServer(t *testing.T) *xtest.Server {
	srv := xtest.New()
	t.Cleanup(srv.Close)
	return srv
}

// connectedSettings are an account's settings once connected: the app's, the tokens the
// daemon keeps, and extra key/value pairs.
func connectedSettings(srv *xtest.Server, tok xtest.Tokens, extra ...string) map[string]string {
	s := srv.AppSettings()
	maps.Copy(s, sdk.CredentialSettings(sdk.Credentials{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, ExpiresAt: tok.ExpiresAt, Subject: "@" + srv.Username}))
	for i := 0; i+1 < len(extra); i += 2 {
		s[extra[i]] = extra[i+1]
	}
	return s
}

// connected returns a Network configured against srv with fresh tokens and a state_dir.
func connected(t *testing.T, srv *xtest.Server, opts ...x.Option) *x.Network {
	t.Helper()
	return configure(t, x.New(append([]x.Option{x.WithMediaPolling(time.Millisecond, 10*time.Second)}, opts...)...),
		connectedSettings(srv, srv.IssueTokens(), "state_dir", t.TempDir()))
}

func configure(t *testing.T, n *x.Network, settings map[string]string) *x.Network {
	t.Helper()
	if err := n.Configure(plugintest.Context(t), settings); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return n
}

func TestConfigure(t *testing.T) {
	srv := newServer(t)
	ctx := plugintest.Context(t)
	n := x.New()
	plugintest.WantKind(t, n.Configure(ctx, map[string]string{}), sdk.Permanent, `setting "client_id" is empty`)
	plugintest.WantKind(t, n.Configure(ctx, map[string]string{"client_id": "c", "clientid": "x"}), sdk.Permanent, `unknown setting "clientid"`)
	plugintest.WantKind(t, n.Configure(ctx, map[string]string{"client_id": "c", "api_url": "api.x.com"}), sdk.Permanent, `setting "api_url"`)
	plugintest.WantKind(t, n.Configure(ctx, connectedSettings(srv, srv.IssueTokens(), sdk.SettingExpiresAt, "tomorrow")), sdk.Permanent, `"token_expires_at" is not an RFC 3339 time`)
	plugintest.WantKind(t, n.Configure(ctx, connectedSettings(srv, xtest.Tokens{AccessToken: "forged"})), sdk.Auth, "X refused the access token")

	// Not connected yet: the connect flow's process is configured with the app settings
	// alone, and succeeds; publishing says what to do.
	configure(t, n, srv.AppSettings())
	_, err := n.Publish(ctx, sdk.Post{Text: "hi"}, "k1")
	plugintest.WantKind(t, err, sdk.Auth, "not connected to X")

	// Connected: the token is checked with X.
	configure(t, n, connectedSettings(srv, srv.IssueTokens()))
	if _, err := n.Publish(ctx, sdk.Post{Text: "hi"}, "k2"); err != nil {
		t.Fatalf("Publish after connecting: %v", err)
	}
	if len(srv.Tweets()) != 1 {
		t.Fatalf("%d tweets, want 1", len(srv.Tweets()))
	}
}

// An access token that expired (the daemon could not refresh it) still configures, so the
// process runs; every call that needs X answers Auth and the daemon holds the posts.
func TestExpiredTokenHoldsPosts(t *testing.T) {
	srv := newServer(t)
	now := time.Now()
	clock := func() time.Time { return now }
	quiet := x.WithLogger(slog.New(slog.DiscardHandler))
	n := x.New(x.WithClock(clock), quiet)
	tok := srv.IssueTokens()
	configure(t, n, connectedSettings(srv, tok, "state_dir", t.TempDir()))
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "before expiry"}, "k1"); err != nil {
		t.Fatal(err)
	}
	now = tok.ExpiresAt.Add(time.Second)
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "after expiry"}, "k2")
	plugintest.WantKind(t, err, sdk.Auth, "expired at")
	plugintest.WantKind(t, n.Delete(plugintest.Context(t), "1"), sdk.Auth, "expired at")

	again := x.New(x.WithClock(clock), quiet)
	configure(t, again, connectedSettings(srv, tok))
	_, err = again.Publish(plugintest.Context(t), sdk.Post{Text: "after expiry"}, "k3")
	plugintest.WantKind(t, err, sdk.Auth, "expired at")
	if got := len(srv.Tweets()); got != 1 {
		t.Fatalf("%d tweets, want only the one before expiry", got)
	}
}

func TestDescribe(t *testing.T) {
	d, _ := x.New().Describe(plugintest.Context(t))
	if d.Name != "x" || d.MaxLength != 280 || d.Counting != sdk.CountX || d.MaxMedia != 4 {
		t.Fatalf("Describe = %+v", d)
	}
	for _, s := range []string{"client_secret", "access_token", "refresh_token"} {
		if !strings.Contains(strings.Join(d.SecretSetting, " "), s) {
			t.Errorf("%s is not a secret setting: %v", s, d.SecretSetting)
		}
	}
}

func TestValidateCountsAsX(t *testing.T) {
	n := x.New()
	ctx := plugintest.Context(t)
	problems := func(p sdk.Post) string {
		ps, err := n.Validate(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return sdk.JoinProblems(ps)
	}
	for _, ok := range []sdk.Post{
		{Text: strings.Repeat("a", 280)},
		{Text: strings.Repeat("語", 140)}, // CJK counts 2
		{Text: strings.Repeat("a", 256) + " https://example.com/" + strings.Repeat("p", 200)}, // a link counts 23
		{Text: strings.Repeat("a", 255), Link: "https://shop.example.com/spring"},             // the link after a blank line
		{Media: []sdk.Media{{MimeType: "image/png", Size: 1000}}},                             // media alone
	} {
		if got := problems(ok); got != "" {
			t.Errorf("Validate(%.30q…) = %s, want no problem", ok.Text, got)
		}
	}
	for _, tc := range []struct {
		post sdk.Post
		want string
	}{
		{sdk.Post{Text: strings.Repeat("a", 281)}, "is 281 characters as X counts them"},
		{sdk.Post{Text: strings.Repeat("語", 141)}, "is 282 characters as X counts them"},
		{sdk.Post{Text: strings.Repeat("🎉", 141)}, "each emoji"},
		{sdk.Post{Text: strings.Repeat("a", 256), Link: "https://shop.example.com/spring"}, "is 281 characters"},
		{sdk.Post{Text: strings.Repeat("a", 255), Link: "https://shop.example/spring"}, "is 284 characters"}, // .example is no TLD: no link
		{sdk.Post{Text: "  "}, "the post is empty"},
		{sdk.Post{Text: "hi\uFEFFthere"}, "U+FEFF at character 3"},
		{sdk.Post{Text: "hi", Link: "shop.example"}, "not an http(s) URL"},
		{sdk.Post{Text: "hi", Media: []sdk.Media{{MimeType: "image/png", Size: 6 << 20}}}, "media[0]"},
		{sdk.Post{Text: "hi", Media: []sdk.Media{{MimeType: "image/gif", Size: 16 << 20}}}, "media[0]"},
		{sdk.Post{Text: "hi", Media: []sdk.Media{{MimeType: "image/gif", Size: 1}, {MimeType: "image/png", Size: 1}}}, "one GIF, or one video"},
		{sdk.Post{Text: "hi", Media: make5Images()}, "5 images; X takes up to 4"},
		{sdk.Post{Text: "hi", Media: []sdk.Media{{MimeType: "image/png", Size: 1, Alt: strings.Repeat("a", 1001)}}}, "alt text) is 1001 characters"},
		{sdk.Post{Text: "hi", Media: []sdk.Media{{MimeType: "video/quicktime", Size: 1}}}, "not one X takes"},
	} {
		if got := problems(tc.post); !strings.Contains(got, tc.want) {
			t.Errorf("Validate(%.30q, %d media) = %q, want %q", tc.post.Text, len(tc.post.Media), got, tc.want)
		}
	}
	// A GIF of 15 MB is fine where an image of 6 MB is not.
	if got := problems(sdk.Post{Media: []sdk.Media{{MimeType: "image/gif", Size: 15 << 20}}}); got != "" {
		t.Errorf("a 15 MB GIF: %s", got)
	}
}

func make5Images() []sdk.Media {
	var ms []sdk.Media
	for range 5 {
		ms = append(ms, sdk.Media{MimeType: "image/jpeg", Size: 100})
	}
	return ms
}

func TestPublishAndDelete(t *testing.T) {
	srv := newServer(t)
	n := connected(t, srv)
	ctx := plugintest.Context(t)
	r, err := n.Publish(ctx, sdk.Post{Text: "Spring sale & more: shop.example.com/spring", Link: "https://shop.example/s"}, "campaign-1/post-1")
	if err != nil {
		t.Fatal(err)
	}
	tw := srv.Tweets()
	if len(tw) != 1 || r.RemoteID != tw[0].ID || tw[0].Text != "Spring sale & more: shop.example.com/spring\n\nhttps://shop.example/s" {
		t.Fatalf("receipt %+v, tweets %+v", r, tw)
	}
	if r.URL != "https://x.com/"+srv.Username+"/status/"+r.RemoteID {
		t.Errorf("URL = %q", r.URL)
	}
	if d := time.Since(r.PublishedAt); d < 0 || d > time.Minute {
		t.Errorf("PublishedAt = %v, want now (from the snowflake id)", r.PublishedAt)
	}
	again, err := n.Publish(ctx, sdk.Post{Text: "Spring sale & more: shop.example.com/spring", Link: "https://shop.example/s"}, "campaign-1/post-1")
	if err != nil || again != r || srv.Count("POST", "/2/tweets") != 1 {
		t.Fatalf("a repeated key posted again: %+v, %v, %d creations", again, err, srv.Count("POST", "/2/tweets"))
	}
	if err := n.Delete(ctx, r.RemoteID); err != nil {
		t.Fatal(err)
	}
	if len(srv.Tweets()) != 0 {
		t.Fatal("the tweet was not deleted")
	}
	if err := n.Delete(ctx, r.RemoteID); err != nil {
		t.Fatalf("deleting a deleted post: %v, want nil", err)
	}
}

func TestPublishUploadsMedia(t *testing.T) {
	srv := newServer(t)
	srv.ProcessingPolls = 2
	n := connected(t, srv)
	ctx := plugintest.Context(t)
	img := plugintest.Attachment(bytes.Repeat([]byte("png!"), 3<<20/4+100), "image/png", "A tram in Lisbon") // 3 MiB: one segment
	r, err := n.Publish(ctx, sdk.Post{Text: "Lisbon by tram", Media: []sdk.Media{img, plugintest.Attachment([]byte("jpeg"), "image/jpeg", "")}}, "k-img")
	if err != nil {
		t.Fatal(err)
	}
	tw := srv.Tweets()
	if len(tw) != 1 || len(tw[0].MediaIDs) != 2 || tw[0].ID != r.RemoteID {
		t.Fatalf("tweets %+v", tw)
	}
	if got := srv.MediaAlt(tw[0].MediaIDs[0]); got != "A tram in Lisbon" {
		t.Errorf("alt text %q", got)
	}
	video := plugintest.Attachment(bytes.Repeat([]byte{7}, 9<<20), "video/mp4", "")
	if _, err := n.Publish(ctx, sdk.Post{Text: "The tram, moving", Media: []sdk.Media{video}}, "k-video"); err != nil {
		t.Fatal(err)
	}
	up := srv.Uploads()
	if len(up) != 3 || !bytes.Equal(up[0], img.Data) || !bytes.Equal(up[2], video.Data) {
		t.Fatalf("uploads: %d, sizes %v", len(up), sizes(up))
	}
	appends := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r, "/append") {
			appends++
		}
	}
	if appends != 1+1+3 { // the video in 4 MiB segments
		t.Errorf("%d APPEND requests, want 5: %v", appends, srv.Requests())
	}
	if got := srv.Count("GET", "/2/media/upload"); got < 2 {
		t.Errorf("%d status polls; the video was processing for 2", got)
	}
}

func sizes(bs [][]byte) []int {
	var out []int
	for _, b := range bs {
		out = append(out, len(b))
	}
	return out
}

func TestErrorsAreTyped(t *testing.T) {
	srv := newServer(t)
	n := connected(t, srv)
	ctx := plugintest.Context(t)
	reset := time.Now().Add(7 * time.Minute).Unix()
	srv.Fail(xtest.Fault{Method: "POST", Path: "/2/tweets", Status: 429,
		Header: http.Header{"X-Rate-Limit-Limit": {"100"}, "X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset": {strconv.FormatInt(reset, 10)}},
		Body:   `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`})
	_, err := n.Publish(ctx, sdk.Post{Text: "one"}, "k1")
	e := plugintest.WantKind(t, err, sdk.RateLimited, "Too Many Requests")
	if e.RetryAfter < 6*time.Minute || e.RetryAfter > 7*time.Minute+time.Second {
		t.Errorf("RetryAfter = %v, want until x-rate-limit-reset (7 minutes)", e.RetryAfter)
	}

	// A 24-hour limit spent: its reset is later than the window's.
	day := time.Now().Add(20 * time.Hour).Unix()
	srv.Fail(xtest.Fault{Method: "POST", Path: "/2/tweets", Status: 429,
		Header: http.Header{"X-Rate-Limit-Remaining": {"99"}, "X-Rate-Limit-Reset": {strconv.FormatInt(reset, 10)},
			"X-User-Limit-24hour-Remaining": {"0"}, "X-User-Limit-24hour-Reset": {strconv.FormatInt(day, 10)}},
		Body: `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`})
	_, err = n.Publish(ctx, sdk.Post{Text: "one"}, "k1")
	if e := plugintest.WantKind(t, err, sdk.RateLimited, ""); e.RetryAfter < 19*time.Hour {
		t.Errorf("RetryAfter = %v, want until the 24-hour reset", e.RetryAfter)
	}

	srv.Fail(xtest.Fault{Method: "POST", Path: "/2/tweets", Status: 503, Body: `{"title":"Service Unavailable","detail":"Service Unavailable","type":"about:blank","status":503}`})
	_, err = n.Publish(ctx, sdk.Post{Text: "one"}, "k2")
	plugintest.WantKind(t, err, sdk.Retryable, "503")

	srv.Fail(xtest.Fault{Method: "POST", Path: "/2/tweets", Status: 403, Body: `{"client_id":"1","detail":"When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.","title":"Client Forbidden","reason":"client-not-enrolled","type":"https://api.x.com/2/problems/client-forbidden"}`})
	_, err = n.Publish(ctx, sdk.Post{Text: "one"}, "k3")
	plugintest.WantKind(t, err, sdk.Permanent, "attached to a Project")

	srv.Fail(xtest.Fault{Method: "POST", Path: "/2/tweets", Status: 401, Body: `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`})
	_, err = n.Publish(ctx, sdk.Post{Text: "one"}, "k4")
	plugintest.WantKind(t, err, sdk.Auth, "connect the account again")

	// A refused post was never created: Lookup says so, and the key may publish later.
	for _, k := range []string{"k1", "k3", "k4"} {
		if _, found, err := n.Lookup(ctx, k); found || err != nil {
			t.Errorf("Lookup(%s) after a refusal = %v, %v; want not found", k, found, err)
		}
	}
	if _, err := n.Publish(ctx, sdk.Post{Text: "one"}, "k1"); err != nil {
		t.Fatalf("publishing after the rate limit: %v", err)
	}
	if len(srv.Tweets()) != 1 {
		t.Fatalf("%d tweets, want 1", len(srv.Tweets()))
	}
}

// X refuses a text the account posted recently. A new post with the same text as an
// earlier one is the person's to change (permanent); a resend of a key whose first send
// got no answer is most likely that very post (retryable, and nothing posted twice).
func TestDuplicateText(t *testing.T) {
	srv := newServer(t)
	n := connected(t, srv)
	ctx := plugintest.Context(t)
	if _, err := n.Publish(ctx, sdk.Post{Text: "Same words"}, "k1"); err != nil {
		t.Fatal(err)
	}
	_, err := n.Publish(ctx, sdk.Post{Text: "Same words"}, "k2")
	plugintest.WantKind(t, err, sdk.Permanent, "change the text")
	if _, found, err := n.Lookup(ctx, "k2"); found || err != nil {
		t.Fatalf("Lookup of the refused duplicate = %v, %v; want not found", found, err)
	}

	// The first send of k3 is created but its answer lost; X's timeline does not show it
	// yet (a canned empty page), so the scan finds nothing and the resend meets X's
	// duplicate refusal.
	srv.DropAfterCreate(1)
	_, err = n.Publish(ctx, sdk.Post{Text: "Lost answer"}, "k3")
	plugintest.WantKind(t, err, sdk.Retryable, "")
	srv.Fail(xtest.Fault{Method: "GET", Path: timeline(srv), Status: 200, Body: `{"meta":{"result_count":0}}`})
	srv.Fail(xtest.Fault{Method: "GET", Path: timeline(srv), Status: 200, Body: `{"meta":{"result_count":0}}`})
	_, err = n.Publish(ctx, sdk.Post{Text: "Lost answer"}, "k3")
	plugintest.WantKind(t, err, sdk.Retryable, "probably this one")
	// Once the timeline shows it, Lookup finds it.
	r, found, err := n.Lookup(ctx, "k3")
	if err != nil || !found {
		t.Fatalf("Lookup(k3) = %v, %v", found, err)
	}
	if tw := srv.Tweets(); len(tw) != 2 || tw[1].ID != r.RemoteID {
		t.Fatalf("tweets %+v, receipt %+v", tw, r)
	}
}

// The crash-safety promise against the fake: X creates the post and the answer is lost;
// Lookup (here in a new Network on the same state_dir, as after a restart) finds it, by
// its text as X shows it (links in t.co, & escaped, a media link appended).
func TestLookupFindsAPostWhoseAnswerWasLost(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	tok := srv.IssueTokens()
	first := configure(t, x.New(x.WithMediaPolling(time.Millisecond, time.Second)), connectedSettings(srv, tok, "state_dir", dir))
	ctx := plugintest.Context(t)
	post := sdk.Post{Text: "Fish & chips <3 at example.com/menu, or https://shop.example.com/lisbon?ref=x.",
		Media: []sdk.Media{plugintest.Attachment([]byte("jpeg"), "image/jpeg", "")}}
	srv.AddTweet("Posted by hand before tact sent anything")
	srv.DropAfterCreate(1)
	if _, err := first.Publish(ctx, post, "c/p-1"); sdk.KindOf(err) != sdk.Retryable {
		t.Fatalf("Publish with the answer lost = %v, want retryable", err)
	}
	if n := len(srv.Tweets()); n != 2 {
		t.Fatalf("%d tweets, want the hand one and the lost one", n)
	}
	second := configure(t, x.New(), connectedSettings(srv, tok, "state_dir", dir))
	r, found, err := second.Lookup(ctx, "c/p-1")
	if err != nil || !found || r.RemoteID != srv.Tweets()[1].ID {
		t.Fatalf("Lookup = %+v, %v, %v; want tweet %s", r, found, err, srv.Tweets()[1].ID)
	}
	again, err := second.Publish(ctx, post, "c/p-1")
	if err != nil || again.RemoteID != r.RemoteID || len(srv.Tweets()) != 2 {
		t.Fatalf("Publish after Lookup = %+v, %v; %d tweets", again, err, len(srv.Tweets()))
	}
	if _, found, err := second.Lookup(ctx, "never-used"); found || err != nil {
		t.Fatalf("Lookup of an unused key = %v, %v; want not found", found, err)
	}
}

// Lookup cannot tell when the account posted something else since (by hand), nor
// without state_dir for a key another process sent: an error, so the post becomes
// unknown instead of going out twice.
func TestLookupCannotTell(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	tok := srv.IssueTokens()
	n := configure(t, x.New(), connectedSettings(srv, tok, "state_dir", dir))
	ctx := plugintest.Context(t)
	srv.HoldCreates = true
	hold, cancel := contextWithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := n.Publish(hold, sdk.Post{Text: "Held"}, "k-held")
		done <- err
	}()
	waitFor(t, func() bool { return len(srv.Tweets()) == 1 })
	cancel()
	<-done
	srv.HoldCreates = false
	// X's timeline shows the post changed beyond what matching forgives, and a hand post.
	srv.Fail(xtest.Fault{Method: "GET", Path: timeline(srv), Status: 200,
		Body: fmt.Sprintf(`{"data":[{"id":%q,"text":"Held, edited"}],"meta":{"result_count":1}}`, srv.Tweets()[0].ID)})
	_, found, err := configure(t, x.New(), connectedSettings(srv, tok, "state_dir", dir)).Lookup(ctx, "k-held")
	if found {
		t.Fatal("found a post that does not match")
	}
	plugintest.WantKind(t, err, sdk.Retryable, "1 post(s) since then match no text tact sent")

	_, _, err = configure(t, x.New(), connectedSettings(srv, tok)).Lookup(ctx, "k-held")
	plugintest.WantKind(t, err, sdk.Retryable, "no state_dir")

	// The timeline is not readable (X's access levels may not allow reads): cannot tell.
	srv.Fail(xtest.Fault{Method: "GET", Path: timeline(srv), Status: 429, Body: `{"title":"Too Many Requests","type":"about:blank","status":429}`})
	_, _, err = configure(t, x.New(), connectedSettings(srv, tok, "state_dir", dir)).Lookup(ctx, "k-held")
	plugintest.WantKind(t, err, sdk.RateLimited, "cannot tell")
}

// The journal is written 0600 in state_dir and survives compaction.
func TestJournalFile(t *testing.T) {
	srv := newServer(t)
	dir := filepath.Join(t.TempDir(), "state")
	tok := srv.IssueTokens()
	n := configure(t, x.New(), connectedSettings(srv, tok, "state_dir", dir))
	r, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "journaled"}, "k")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "x-journal.jsonl"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("journal: %v, %v", fi, err)
	}
	for range 2 { // each new process compacts the file on first use
		got, found, err := configure(t, x.New(), connectedSettings(srv, tok, "state_dir", dir)).Lookup(plugintest.Context(t), "k")
		if err != nil || !found || got.RemoteID != r.RemoteID {
			t.Fatalf("Lookup = %+v, %v, %v", got, found, err)
		}
	}
}

func contextWithCancel(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(ctx)
}

// waitFor waits until cond holds, failing the test after 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func timeline(srv *xtest.Server) string { return "/2/users/" + srv.UserID + "/tweets" }

// A key sent without an answer as one X user, then the tact account connected as another:
// the first user's posts are not the second's to search, so neither Lookup nor a resend
// decides; nothing is posted again.
func TestAnotherUserCannotTell(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	ctx := plugintest.Context(t)
	first := configure(t, x.New(), connectedSettings(srv, srv.IssueTokens(), "state_dir", dir))
	srv.DropAfterCreate(1)
	if _, err := first.Publish(ctx, sdk.Post{Text: "Lost"}, "k"); sdk.KindOf(err) != sdk.Retryable {
		t.Fatalf("Publish = %v", err)
	}
	srv.UserID, srv.Username = "42", "otherbrand"
	second := configure(t, x.New(), connectedSettings(srv, srv.IssueTokens(), "state_dir", dir))
	_, _, err := second.Lookup(ctx, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "connected as another")
	_, err = second.Publish(ctx, sdk.Post{Text: "Lost"}, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "connected as another")
	if n := srv.Count("POST", "/2/tweets"); n != 1 {
		t.Fatalf("%d creations, want 1", n)
	}
}

package facebook_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tact-hq/tact/plugins/facebook/facebooktest"
	"github.com/tact-hq/tact/plugins/internal/crashtest"
	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Facebook creates the post, then the answer is lost. A new process (same state_dir)
// must find the post among the Page's posts, and a publish with the same key must return
// it instead of posting again.
func TestLostAnswerIsFoundByLookupInANewProcess(t *testing.T) {
	for _, post := range []sdk.Post{
		{Text: "Spring sale: 20% off #Lisbon", Link: "https://shop.example/spring"},
		{Text: "One photo", Media: []sdk.Media{plugintest.Attachment(pngBytes, "image/png", "")}},
		{Text: "Two photos", Link: "https://shop.example/x", Media: []sdk.Media{plugintest.Attachment(pngBytes, "image/png", ""), plugintest.Attachment(jpegBytes, "image/jpeg", "")}},
	} {
		srv := newServer(t)
		dir := t.TempDir()
		first := configured(t, srv, nil, "state_dir", dir)
		srv.DropAfterCreate(1)
		_, err := first.Publish(plugintest.Context(t), post, "campaign-3/post-9")
		plugintest.WantKind(t, err, sdk.Retryable, "")
		created := srv.Posts()
		if len(created) != 1 {
			t.Fatalf("%d posts, want the one whose answer was lost", len(created))
		}

		second := configured(t, srv, nil, "state_dir", dir)
		ctx := plugintest.Context(t)
		r, found, err := second.Lookup(ctx, "campaign-3/post-9")
		if err != nil || !found || r.RemoteID != created[0].ID {
			t.Fatalf("%s: Lookup = %+v, %v, %v; want %s", created[0].Kind, r, found, err, created[0].ID)
		}
		again, err := second.Publish(ctx, post, "campaign-3/post-9")
		if err != nil || again.RemoteID != created[0].ID {
			t.Fatalf("Publish again = %+v, %v", again, err)
		}
		if _, found, err := second.Lookup(ctx, "never-sent"); found || err != nil {
			t.Fatalf("Lookup of a key never sent = %v, %v; want not found", found, err)
		}
		if got := len(srv.Posts()); got != 1 {
			t.Fatalf("%d posts, want 1", got)
		}
	}
}

// A create Facebook refused with a 5xx may or may not have left a post: Lookup looks,
// sees nothing, says so, and publishing again posts once.
func TestAFailedCreateIsNotFoundAndIsSentAgain(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "state_dir", t.TempDir())
	ctx := plugintest.Context(t)
	srv.Fail(facebooktest.Fault{Method: "POST", Path: "/" + page + "/feed", Status: 500, Body: facebooktest.ErrorBody(2, 0, "Service temporarily unavailable", true)})
	_, err := n.Publish(ctx, sdk.Post{Text: "second try"}, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "Service temporarily unavailable")
	if _, found, err := n.Lookup(ctx, "k"); found || err != nil {
		t.Fatalf("Lookup = %v, %v; want not found", found, err)
	}
	if _, err := n.Publish(ctx, sdk.Post{Text: "second try"}, "k"); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Posts()); got != 1 {
		t.Fatalf("%d posts, want 1", got)
	}
}

// Facebook's list of a Page's posts may lag behind a create. When Lookup saw nothing and
// the post is sent again, Facebook refuses it as a duplicate of the Page's last post:
// that means the first went out, and once the list shows it, it is this key's post.
func TestTheDuplicateOfAnUnansweredSendIsFound(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "state_dir", t.TempDir())
	ctx := plugintest.Context(t)
	srv.DropAfterCreate(1)
	post := sdk.Post{Text: "lagging list"}
	if _, err := n.Publish(ctx, post, "k"); err == nil {
		t.Fatal("Publish succeeded without an answer")
	}
	empty := facebooktest.Fault{Method: "GET", Path: "/" + page + "/published_posts", Status: 200, Body: `{"data":[]}`}
	srv.Fail(empty) // the lagging list, on the scan before sending again
	srv.Fail(empty) // and on the scan after the duplicate refusal
	_, err := n.Publish(ctx, post, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "refuses this one as a duplicate of the Page's last post")
	if got := len(srv.Posts()); got != 1 {
		t.Fatalf("%d posts, want 1", got)
	}
	// The list has caught up.
	r, err := n.Publish(ctx, post, "k")
	if err != nil || r.RemoteID != srv.Posts()[0].ID {
		t.Fatalf("Publish = %+v, %v; want the first post", r, err)
	}
	if got := len(srv.Posts()); got != 1 {
		t.Fatalf("%d posts, want 1", got)
	}
}

// The same text twice in a row from two posts is Facebook's refusal, said plainly, and
// the refused key is known never to have been published.
func TestADuplicateOfAnotherPostIsPermanent(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "state_dir", t.TempDir())
	ctx := plugintest.Context(t)
	if _, err := n.Publish(ctx, sdk.Post{Text: "same words"}, "k1"); err != nil {
		t.Fatal(err)
	}
	_, err := n.Publish(ctx, sdk.Post{Text: "same words"}, "k2")
	plugintest.WantKind(t, err, sdk.Permanent, "does not take the same text twice in a row on a Page: change the text")
	if _, found, err := n.Lookup(ctx, "k2"); found || err != nil {
		t.Fatalf("Lookup of the refused key = %v, %v; want not found", found, err)
	}
}

// A post somebody made by hand while tact's answer was lost could be tact's, mangled:
// Lookup cannot tell, and the post becomes unknown for a person instead of going out twice.
func TestAStrangerInTheWindowMeansCannotTell(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "state_dir", t.TempDir())
	ctx := plugintest.Context(t)
	srv.Fail(facebooktest.Fault{Method: "POST", Path: "/" + page + "/feed", Status: 500, Body: facebooktest.ErrorBody(1, 0, "An unknown error has occurred.", false)})
	if _, err := n.Publish(ctx, sdk.Post{Text: "ours"}, "k"); err == nil {
		t.Fatal("Publish succeeded")
	}
	srv.AddPost(page, "posted by a person")
	_, found, err := n.Lookup(ctx, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "1 post(s) published on the Page since then match no text tact sent")
	if found {
		t.Fatal("found")
	}
	_, err = n.Publish(ctx, sdk.Post{Text: "ours"}, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "cannot tell")
	if got := len(srv.Posts()); got != 1 {
		t.Fatalf("%d posts, want only the person's", got)
	}
}

// Posts other keys own are not this key's, even with the same text; more posts than
// Lookup reads, and it cannot tell.
func TestLookupSkipsOtherKeysPostsAndKnowsItsBounds(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	n := configured(t, srv, nil, "state_dir", dir)
	ctx := plugintest.Context(t)
	if _, err := n.Publish(ctx, sdk.Post{Text: "weekly deal", Link: "https://shop.example/1"}, "k1"); err != nil {
		t.Fatal(err)
	}
	srv.Fail(facebooktest.Fault{Method: "POST", Path: "/" + page + "/feed", Status: 500, Body: facebooktest.ErrorBody(1, 0, "unknown", false)})
	if _, err := n.Publish(ctx, sdk.Post{Text: "weekly deal", Link: "https://shop.example/2"}, "k2"); err == nil {
		t.Fatal("Publish succeeded")
	}
	if _, found, err := n.Lookup(ctx, "k2"); found || err != nil {
		t.Fatalf("Lookup = %v, %v; want not found: the only post with that text is k1's", found, err)
	}
	for i := range 401 {
		srv.AddPost(page, "by hand "+strings.Repeat("!", i%5))
	}
	_, _, err := n.Lookup(ctx, "k2")
	plugintest.WantKind(t, err, sdk.Retryable, "more than 400 posts since then")
}

// The journal survives a line torn by a crash mid-write.
func TestATornJournalLineIsSkipped(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	n := configured(t, srv, nil, "state_dir", dir)
	r, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "kept"}, "k")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "facebook-"+page+".jsonl")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"key":"torn","sending":"2026-`)
	f.Close()
	m := configured(t, srv, nil, "state_dir", dir)
	got, found, err := m.Lookup(plugintest.Context(t), "k")
	if err != nil || !found || got.RemoteID != r.RemoteID {
		t.Fatalf("Lookup = %+v, %v, %v", got, found, err)
	}
	if _, found, err := m.Lookup(plugintest.Context(t), "torn"); found || err != nil {
		t.Fatalf("Lookup of the torn key = %v, %v", found, err)
	}
}

// Without state_dir, a new process cannot know what an earlier one sent.
func TestWithoutStateDirLookupOfAnUnknownKeyCannotTell(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil)
	_, found, err := n.Lookup(plugintest.Context(t), "k")
	plugintest.WantKind(t, err, sdk.Retryable, "without state_dir")
	if found {
		t.Fatal("found")
	}
}

// The real thing: the plugin binary runs as the daemon runs it, dies while Facebook holds
// the answer to a post it has already created, and a new plugin process, started from the
// same settings, finds that post instead of posting again.
func TestPluginProcessDiesMidPublish(t *testing.T) {
	srv := newServer(t)
	crashtest.KillMidPublish(t, crashtest.Case[facebooktest.Post]{
		Binary:   "github.com/tact-hq/tact/cmd/tact-plugin-facebook",
		Account:  "brand",
		Settings: settings(srv, "state_dir", t.TempDir()),
		Post:     sdk.Post{Text: "Lisbon by tram (from €2) #travel", Media: []sdk.Media{plugintest.Attachment(jpegBytes, "image/jpeg", "tram 28")}},
		Key:      "campaign-1/post-4",
		Network:  "Facebook",
		Hold:     func(on bool) { srv.HoldCreates = on },
		Made:     srv.Posts,
		ID:       func(p facebooktest.Post) string { return p.ID },
	})
}

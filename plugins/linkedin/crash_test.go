package linkedin_test

import (
	"testing"

	"github.com/tact-hq/tact/plugins/internal/crashtest"
	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/linkedin/linkedintest"
	"github.com/tact-hq/tact/plugins/sdk"
)

// LinkedIn creates the post, then the answer is lost. A new process (same state_dir)
// must find the post through the page's posts, and a publish with the same key must
// return it instead of posting again.
func TestLostAnswerIsFoundByLookupInANewProcess(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	post := sdk.Post{Text: "Spring sale (20% off) #Lisbon", Link: "https://shop.example/spring"}
	first := configured(t, srv, nil, "author", page, "state_dir", dir)
	srv.DropAfterCreate(1)
	_, err := first.Publish(plugintest.Context(t), post, "campaign-3/post-9")
	plugintest.WantKind(t, err, sdk.Retryable, "")
	created := srv.Posts()
	if len(created) != 1 {
		t.Fatalf("%d posts, want the one whose answer was lost", len(created))
	}

	second := configured(t, srv, nil, "author", page, "state_dir", dir)
	ctx := plugintest.Context(t)
	r, found, err := second.Lookup(ctx, "campaign-3/post-9")
	if err != nil || !found || r.RemoteID != created[0].URN {
		t.Fatalf("Lookup = %+v, %v, %v; want %s", r, found, err, created[0].URN)
	}
	again, err := second.Publish(ctx, post, "campaign-3/post-9")
	if err != nil || again.RemoteID != created[0].URN {
		t.Fatalf("Publish again = %+v, %v", again, err)
	}
	if _, found, err := second.Lookup(ctx, "never-sent"); found || err != nil {
		t.Fatalf("Lookup of a key never sent = %v, %v; want not found", found, err)
	}
	if got := len(srv.Posts()); got != 1 {
		t.Fatalf("%d posts, want 1", got)
	}
}

// A create that LinkedIn refused with a 5xx left nothing: Lookup says so, and publishing
// again posts once.
func TestAFailedCreateIsNotFoundAndIsSentAgain(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "author", page, "state_dir", t.TempDir())
	ctx := plugintest.Context(t)
	srv.Fail(linkedintest.Fault{Method: "POST", Path: "/rest/posts", Status: 503, Body: `{"status":503,"message":"Service Unavailable"}`})
	_, err := n.Publish(ctx, sdk.Post{Text: "second try"}, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "Service Unavailable")
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

// LinkedIn's list of a page's posts may lag behind a create. When Lookup saw nothing and
// the post is sent again, LinkedIn refuses it as a duplicate of the first: that one is
// this key's post.
func TestTheDuplicateOfAnUnansweredSendIsAdopted(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "author", page, "state_dir", t.TempDir())
	ctx := plugintest.Context(t)
	srv.DropAfterCreate(1)
	post := sdk.Post{Text: "lagging list"}
	if _, err := n.Publish(ctx, post, "k"); err == nil {
		t.Fatal("Publish succeeded without an answer")
	}
	srv.Fail(linkedintest.Fault{Method: "GET", Path: "/rest/posts", Status: 200, Body: `{"paging":{"start":0,"count":50},"elements":[]}`})
	r, err := n.Publish(ctx, post, "k")
	if err != nil {
		t.Fatal(err)
	}
	if posts := srv.Posts(); len(posts) != 1 || r.RemoteID != posts[0].URN {
		t.Fatalf("receipt %+v, posts %+v; want the first post adopted", r, posts)
	}
	if got, _, _ := n.Lookup(ctx, "k"); got.RemoteID != r.RemoteID {
		t.Fatalf("Lookup = %+v after adoption", got)
	}
}

// A post identical to one tact did not send is LinkedIn's refusal, said plainly.
func TestADuplicateOfSomeoneElsesPostIsPermanent(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "author", page, "state_dir", t.TempDir())
	ctx := plugintest.Context(t)
	first, err := n.Publish(ctx, sdk.Post{Text: "same words"}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Publish(ctx, sdk.Post{Text: "same words"}, "k2")
	plugintest.WantKind(t, err, sdk.Permanent, "copy of "+first.RemoteID+", which tact published for another post")
	other := configured(t, srv, nil, "author", page, "state_dir", t.TempDir()) // a journal that knows nothing
	_, err = other.Publish(ctx, sdk.Post{Text: "same words"}, "k3")
	plugintest.WantKind(t, err, sdk.Permanent, "copy of its recent post "+first.RemoteID)
}

// A post somebody made by hand while tact's answer was lost could be tact's, mangled:
// Lookup cannot tell, and the post becomes unknown for a person instead of going out twice.
func TestAStrangerInTheWindowMeansCannotTell(t *testing.T) {
	srv := newServer(t)
	dir := t.TempDir()
	n := configured(t, srv, nil, "author", page, "state_dir", dir)
	ctx := plugintest.Context(t)
	srv.Fail(linkedintest.Fault{Method: "POST", Path: "/rest/posts", Status: 502, Body: "bad gateway"})
	if _, err := n.Publish(ctx, sdk.Post{Text: "ours"}, "k"); err == nil {
		t.Fatal("Publish succeeded")
	}
	byHand := configured(t, srv, nil, "author", page)
	if _, err := byHand.Publish(ctx, sdk.Post{Text: "posted by a person"}, "hand"); err != nil {
		t.Fatal(err)
	}
	_, found, err := n.Lookup(ctx, "k")
	plugintest.WantKind(t, err, sdk.Retryable, "1 post(s) published since then match no text tact sent")
	if found {
		t.Fatal("found")
	}
}

// With the read scope, a member's lost answer is found too.
func TestAMemberWithReadScopeIsLookedUp(t *testing.T) {
	srv := newServer(t)
	token, _ := srv.IssueToken("openid", "profile", "w_member_social", "r_member_social")
	n := configured(t, srv, nil, "access_token", token, "state_dir", t.TempDir())
	srv.DropAfterCreate(1)
	ctx := plugintest.Context(t)
	if _, err := n.Publish(ctx, sdk.Post{Text: "mine"}, "k"); err == nil {
		t.Fatal("Publish succeeded without an answer")
	}
	r, found, err := n.Lookup(ctx, "k")
	if err != nil || !found || r.RemoteID != srv.Posts()[0].URN {
		t.Fatalf("Lookup = %+v, %v, %v", r, found, err)
	}
}

// Without state_dir, a new process cannot know what an earlier one sent.
func TestWithoutStateDirLookupOfAnUnknownKeyCannotTell(t *testing.T) {
	srv := newServer(t)
	n := configured(t, srv, nil, "author", page)
	_, found, err := n.Lookup(plugintest.Context(t), "k")
	plugintest.WantKind(t, err, sdk.Retryable, "without state_dir")
	if found {
		t.Fatal("found")
	}
}

// The real thing: the plugin binary runs as the daemon runs it, dies while LinkedIn holds
// the answer to a post it has already created, and a new plugin process, started from the
// same settings, finds that post instead of posting again.
func TestPluginProcessDiesMidPublish(t *testing.T) {
	srv := newServer(t)
	crashtest.KillMidPublish(t, crashtest.Case[linkedintest.Post]{
		Binary:   "github.com/tact-hq/tact/cmd/tact-plugin-linkedin",
		Account:  "brand",
		Settings: settings(srv, "author", page, "state_dir", t.TempDir()),
		Post:     sdk.Post{Text: "Lisbon by tram (from €2) #travel", Link: "https://shop.example/tram"},
		Key:      "campaign-1/post-4",
		Network:  "LinkedIn",
		Hold:     func(on bool) { srv.HoldCreates = on },
		Made:     srv.Posts,
		ID:       func(p linkedintest.Post) string { return p.URN },
	})
}

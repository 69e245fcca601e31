package linkedin_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/host"
	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/linkedin/linkedintest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/sdk/conformance"
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
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-linkedin")
	srv := newServer(t)
	srv.HoldCreates = true
	account := []host.Account{{Name: "brand", Binary: bin, Settings: settings(srv, "author", page, "state_dir", t.TempDir())}}
	cfg := host.Config{Logger: slog.New(slog.DiscardHandler), CallTimeout: 30 * time.Second, StartTimeout: 30 * time.Second}
	post := sdk.Post{Text: "Lisbon by tram (from €2) #travel", Link: "https://shop.example/tram"}

	first, err := host.New(cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(plugintest.Context(t), "brand"); err != nil {
		t.Fatal(err)
	}
	net1, _ := first.Network("brand")
	published := make(chan error, 1)
	go func() {
		_, err := net1.Publish(plugintest.Context(t), post, "campaign-1/post-4")
		published <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.Posts()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the post never reached LinkedIn")
		}
		select {
		case err := <-published:
			t.Fatalf("Publish returned before LinkedIn answered: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	first.Close() // the plugin process is stopped with the publish in flight
	if err := <-published; err == nil {
		t.Fatal("Publish succeeded although no answer ever came")
	}
	created := srv.Posts()[0]

	srv.HoldCreates = false
	second, err := host.New(cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := second.Start(plugintest.Context(t), "brand"); err != nil {
		t.Fatal(err)
	}
	net2, _ := second.Network("brand")
	c, cancel := context.WithTimeout(plugintest.Context(t), 10*time.Second)
	defer cancel()
	r, found, err := net2.Lookup(c, "campaign-1/post-4")
	if err != nil || !found || r.RemoteID != created.URN {
		t.Fatalf("Lookup in the new process = %+v, %v, %v; want %s", r, found, err, created.URN)
	}
	again, err := net2.Publish(c, post, "campaign-1/post-4")
	if err != nil || again.RemoteID != created.URN {
		t.Fatalf("Publish in the new process = %+v, %v", again, err)
	}
	if n := len(srv.Posts()); n != 1 {
		t.Fatalf("%d posts on LinkedIn, want 1", n)
	}
}

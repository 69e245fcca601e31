package wordpress_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/host"
	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/sdk/conformance"
	"github.com/tact-hq/tact/plugins/wordpress"
	"github.com/tact-hq/tact/plugins/wordpress/wordpresstest"
)

// WordPress creates the post, then the answer is lost. A new process finds it by its slug,
// and publishing the same key again returns it instead of posting twice.
func TestLostAnswerIsFoundByLookupInANewProcess(t *testing.T) {
	srv := wordpresstest.New(t)
	post := sdk.Post{Text: "Spring sale\n\n20% off", Link: "https://shop.example/spring"}
	first := configured(t, srv)
	srv.DropAfterCreate(1)
	_, err := first.Publish(plugintest.Context(t), post, "campaign-3/post-9")
	plugintest.WantKind(t, err, sdk.Retryable, "")
	created := srv.Posts()
	if len(created) != 1 {
		t.Fatalf("%d posts, want the one whose answer was lost", len(created))
	}

	second := configured(t, srv)
	ctx := plugintest.Context(t)
	r, found, err := second.Lookup(ctx, "campaign-3/post-9")
	if err != nil || !found || r.RemoteID != itoa(created[0].ID) || r.URL == "" {
		t.Fatalf("Lookup = %+v, %v, %v; want post %d", r, found, err, created[0].ID)
	}
	again, err := second.Publish(ctx, post, "campaign-3/post-9")
	if err != nil || again != r {
		t.Fatalf("Publish again = %+v, %v; want %+v", again, err, r)
	}
	if _, found, err := second.Lookup(ctx, "never-sent"); found || err != nil {
		t.Fatalf("Lookup of a key never sent = %v, %v; want not found", found, err)
	}
	if got := len(srv.Posts()); got != 1 || srv.Count("POST", "/wp/v2/posts") != 1 {
		t.Fatalf("%d posts from %d creates, want 1", got, srv.Count("POST", "/wp/v2/posts"))
	}
}

// A draft or a post waiting for review has its slug too: it is found as well.
func TestLookupFindsDraftsAndPendingPosts(t *testing.T) {
	srv := wordpresstest.New(t)
	for _, status := range []string{"draft", "pending"} {
		n := configured(t, srv, "status", status)
		srv.DropAfterCreate(1)
		if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: status}, "k-"+status); err == nil {
			t.Fatal("Publish succeeded without an answer")
		}
		if _, found, err := configured(t, srv).Lookup(plugintest.Context(t), "k-"+status); !found || err != nil {
			t.Fatalf("%s: found %v, %v", status, found, err)
		}
	}
}

// A look-up that fails cannot tell: the daemon must not take it for "never published".
func TestALookupThatFailsCannotTell(t *testing.T) {
	srv := wordpresstest.New(t)
	n := configured(t, srv)
	srv.Fail(wordpresstest.Fault{Method: "GET", Route: "/wp/v2/posts", Status: 502, Body: "bad gateway"})
	_, found, err := n.Lookup(plugintest.Context(t), "k")
	plugintest.WantKind(t, err, sdk.Retryable, "cannot tell whether post "+wordpress.Slug("k"))
	if found {
		t.Fatal("found")
	}
}

// The real thing: the plugin binary runs as the daemon runs it, dies while WordPress holds
// the answer to a post it has created, and a new plugin process finds that post.
func TestPluginProcessDiesMidPublish(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-wordpress")
	srv := wordpresstest.New(t)
	srv.HoldCreates.Store(true)
	account := []host.Account{{Name: "blog", Binary: bin, Settings: srv.Settings()}}
	cfg := host.Config{Logger: slog.New(slog.DiscardHandler), CallTimeout: 30 * time.Second, StartTimeout: 30 * time.Second}
	post := sdk.Post{Text: "Lisbon by tram\n\nFrom €2", Link: "https://shop.example/tram"}

	first, err := host.New(cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(plugintest.Context(t), "blog"); err != nil {
		t.Fatal(err)
	}
	net1, _ := first.Network("blog")
	published := make(chan error, 1)
	go func() {
		_, err := net1.Publish(plugintest.Context(t), post, "campaign-1/post-4")
		published <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.Posts()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the post never reached WordPress")
		}
		select {
		case err := <-published:
			t.Fatalf("Publish returned before WordPress answered: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	first.Close() // the plugin process is stopped with the publish in flight
	if err := <-published; err == nil {
		t.Fatal("Publish succeeded although no answer ever came")
	}
	created := srv.Posts()[0]

	srv.HoldCreates.Store(false)
	second, err := host.New(cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := second.Start(plugintest.Context(t), "blog"); err != nil {
		t.Fatal(err)
	}
	net2, _ := second.Network("blog")
	c, cancel := context.WithTimeout(plugintest.Context(t), 10*time.Second)
	defer cancel()
	r, found, err := net2.Lookup(c, "campaign-1/post-4")
	if err != nil || !found || r.RemoteID != itoa(created.ID) {
		t.Fatalf("Lookup in the new process = %+v, %v, %v; want %d", r, found, err, created.ID)
	}
	again, err := net2.Publish(c, post, "campaign-1/post-4")
	if err != nil || again.RemoteID != r.RemoteID {
		t.Fatalf("Publish in the new process = %+v, %v", again, err)
	}
	if n := len(srv.Posts()); n != 1 {
		t.Fatalf("%d posts on WordPress, want 1", n)
	}
}

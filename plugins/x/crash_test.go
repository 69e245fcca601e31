package x_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/host"
	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

// The real thing: the plugin binary runs as the daemon runs it and dies while X holds the
// answer to a post it has already created; a new plugin process, started from the same
// settings, must find that post (X takes no idempotency key) instead of posting again.
func TestPluginProcessDiesMidPublish(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-x")
	srv := newServer(t)
	srv.HoldCreates = true
	account := []host.Account{{Name: "brand-x", Binary: bin, Settings: connectedSettings(srv, srv.IssueTokens(), "state_dir", t.TempDir())}}
	cfg := host.Config{Logger: slog.New(slog.DiscardHandler), CallTimeout: 30 * time.Second, StartTimeout: 30 * time.Second}
	post := sdk.Post{Text: "Spring sale: 20% off at shop.example.com/spring & more 🌸"}

	first, err := host.New(cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(plugintest.Context(t), "brand-x"); err != nil {
		t.Fatal(err)
	}
	net1, _ := first.Network("brand-x")
	published := make(chan error, 1)
	go func() {
		_, err := net1.Publish(plugintest.Context(t), post, "campaign-3/post-9")
		published <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.Tweets()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the post never reached X")
		}
		select {
		case err := <-published:
			t.Fatalf("Publish returned before X answered: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	first.Close() // the plugin process is stopped with the publish in flight
	if err := <-published; err == nil {
		t.Fatal("Publish succeeded although no answer ever came")
	}
	created := srv.Tweets()[0]

	srv.HoldCreates = false
	second, err := host.New(cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := second.Start(plugintest.Context(t), "brand-x"); err != nil {
		t.Fatal(err)
	}
	net2, _ := second.Network("brand-x")
	c, cancel := context.WithTimeout(plugintest.Context(t), 10*time.Second)
	defer cancel()
	r, found, err := net2.Lookup(c, "campaign-3/post-9")
	if err != nil || !found || r.RemoteID != created.ID {
		t.Fatalf("Lookup in the new process = %+v, %v, %v; want post %s", r, found, err, created.ID)
	}
	again, err := net2.Publish(c, post, "campaign-3/post-9")
	if err != nil || again.RemoteID != created.ID {
		t.Fatalf("Publish in the new process = %+v, %v", again, err)
	}
	if n := len(srv.Tweets()); n != 1 {
		t.Fatalf("%d posts on X, want 1", n)
	}
}

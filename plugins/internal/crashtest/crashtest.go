// Package crashtest is the kill-mid-publish test the built-in plugins share: the plugin
// binary runs through the real host as the daemon runs it, its process is stopped while
// the network's fake holds the answer to a post it has already made, and a new process
// started from the same settings must find that post (Lookup) and return it from a
// publish with the same key, instead of posting again (docs/plugins.md, "Lookup").
package crashtest

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

// Case is what a plugin's crash test says of itself; P is its fake's record of a post.
type Case[P any] struct {
	// Binary is the plugin's main package, built with conformance.Build:
	// "github.com/tact-hq/tact/cmd/tact-plugin-mastodon".
	Binary string
	// Account names the account (any name); Settings are its settings, state_dir included.
	Account  string
	Settings map[string]string
	Post     sdk.Post
	Key      string // the idempotency key published
	// Network names the network in failure messages: "LinkedIn", "the site".
	Network string
	// Hold makes the fake keep (true) or stop keeping (false) its answers to creates,
	// after it has made the post.
	Hold func(on bool)
	// Made lists the posts the fake has made, oldest first; ID is a post's remote id,
	// which the plugin's receipts carry.
	Made func() []P
	ID   func(P) string
}

// KillMidPublish runs c (see the package comment). It is skipped with -short.
func KillMidPublish[P any](t *testing.T, c Case[P]) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := conformance.Build(t, c.Binary)
	account := []host.Account{{Name: c.Account, Binary: bin, Settings: c.Settings}}
	cfg := host.Config{Logger: slog.New(slog.DiscardHandler), CallTimeout: 30 * time.Second, StartTimeout: 30 * time.Second}
	c.Hold(true)

	first, err := host.New(cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(plugintest.Context(t), c.Account); err != nil {
		t.Fatal(err)
	}
	net1, _ := first.Network(c.Account)
	published := make(chan error, 1)
	go func() {
		_, err := net1.Publish(plugintest.Context(t), c.Post, c.Key)
		published <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for len(c.Made()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the post never reached %s", c.Network)
		}
		select {
		case err := <-published:
			t.Fatalf("Publish returned before %s answered: %v", c.Network, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	first.Close() // the plugin process is stopped with the publish in flight
	if err := <-published; err == nil {
		t.Fatal("Publish succeeded although no answer ever came")
	}
	created := c.ID(c.Made()[0])

	c.Hold(false)
	second, err := host.New(cfg, account)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := second.Start(plugintest.Context(t), c.Account); err != nil {
		t.Fatal(err)
	}
	net2, _ := second.Network(c.Account)
	ctx, cancel := context.WithTimeout(plugintest.Context(t), 10*time.Second)
	defer cancel()
	r, found, err := net2.Lookup(ctx, c.Key)
	if err != nil || !found || r.RemoteID != created {
		t.Fatalf("Lookup in the new process = %+v, %v, %v; want %s", r, found, err, created)
	}
	again, err := net2.Publish(ctx, c.Post, c.Key)
	if err != nil || again.RemoteID != created {
		t.Fatalf("Publish in the new process = %+v, %v", again, err)
	}
	if n := len(c.Made()); n != 1 {
		t.Fatalf("%d posts on %s, want 1", n, c.Network)
	}
}

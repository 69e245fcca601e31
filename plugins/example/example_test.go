package example_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/example"
	"github.com/tact-hq/tact/plugins/example/exampletest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

// The example plugin, run as a real plugin process, passes the conformance kit against a
// fake of its network, and the fake saw exactly one post for the repeated key.
func TestConformance(t *testing.T) {
	fake := exampletest.NewServer("secret-token", nil)
	defer fake.Close()
	conformance.Run(t, conformance.Config{
		Binary:   conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-example"),
		Settings: map[string]string{"server": fake.URL, "token": "secret-token"},
	})
	posts := fake.Posts()
	if len(posts) != 1 || !posts[0].Deleted {
		t.Fatalf("the fake holds %+v; want the one conformance post, deleted", posts)
	}
}

// A refused token is an Auth error (the account needs a person), and the token never
// appears in the message.
func TestBadTokenIsAuth(t *testing.T) {
	fake := exampletest.NewServer("right", nil)
	defer fake.Close()
	n := example.New(fake.Client())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := n.Configure(ctx, map[string]string{"server": fake.URL, "token": "wrong-token-value"})
	if sdk.KindOf(err) != sdk.Auth {
		t.Fatalf("Configure with a bad token = %v, want an auth error", err)
	}
	if got := err.Error(); strings.Contains(got, "wrong-token-value") {
		t.Fatalf("the error shows the token: %s", got)
	}
}

// A network that is down gives a Retryable error, so the daemon tries again later.
func TestNetworkDownIsRetryable(t *testing.T) {
	fake := exampletest.NewServer("tok", nil)
	n := example.New(fake.Client())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Configure(ctx, map[string]string{"server": fake.URL, "token": "tok"}); err != nil {
		t.Fatal(err)
	}
	fake.Close()
	_, err := n.Publish(ctx, sdk.Post{Text: "hello"}, "k")
	if sdk.KindOf(err) != sdk.Retryable {
		t.Fatalf("Publish with the network down = %v, want retryable", err)
	}
}

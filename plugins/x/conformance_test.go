package x_test

import (
	"testing"

	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

// The plugin binary passes the conformance kit through the real gRPC path, against the
// fake X.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	srv := newServer(t)
	conformance.Run(t, conformance.Config{
		Binary:   conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-x"),
		Settings: connectedSettings(srv, srv.IssueTokens(), "state_dir", t.TempDir()),
	})
	if n := len(srv.Tweets()); n != 0 {
		t.Errorf("%d posts left after the kit's publish and delete, want 0", n)
	}
	if n := srv.Count("POST", "/2/tweets"); n != 1 {
		t.Errorf("%d post creations; the kit publishes once (the over-long post is refused before X)", n)
	}
}

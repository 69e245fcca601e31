package mastodon_test

import (
	"testing"

	"github.com/tact-hq/tact/plugins/mastodon/mastodontest"
	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

// The plugin binary passes the conformance kit through the real gRPC path, against the
// fake server, on both a Mastodon-like and a GoToSocial-like server.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-mastodon")
	for _, ignoreKey := range []bool{false, true} {
		srv := newServer(t)
		srv.IgnoreIdempotencyKey = ignoreKey
		if !ignoreKey { // Mastodon offers trending links; GoToSocial does not (the kit skips them)
			srv.TrendingLinks = []mastodontest.TrendingLink{{URL: "https://news.example/a", Title: "A headline", Type: "link"}}
		}
		conformance.Run(t, conformance.Config{
			Binary:   bin,
			Settings: map[string]string{"server": srv.URL, "token": srv.Token, "state_dir": t.TempDir()},
		})
		if n := len(srv.Statuses()); n != 0 {
			t.Errorf("%d statuses left after the kit's publish and delete, want 0", n)
		}
		if n := srv.Count("POST", "/api/v1/statuses"); n > 2 {
			t.Errorf("%d status creations; the kit publishes once (plus one refused over-long post at most)", n)
		}
	}
}

package facebook_test

import (
	"testing"

	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

// The plugin binary passes the conformance kit through the real gRPC path, against the
// fake Facebook, with a Page token and the app's credentials (so with appsecret_proof).
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	srv := newServer(t)
	srv.RequireAppSecretProof = true
	conformance.Run(t, conformance.Config{
		Binary:   conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-facebook"),
		Settings: settings(srv, "state_dir", t.TempDir(), "client_id", srv.AppID, "client_secret", srv.AppSecret),
	})
	if n := len(srv.Posts()); n != 0 {
		t.Errorf("%d posts left after the kit's publish and delete, want 0", n)
	}
	if n := srv.Count("POST", "/"+page+"/feed"); n != 1 {
		t.Errorf("%d post creations; the kit publishes once (the over-long post is refused before sending)", n)
	}
}

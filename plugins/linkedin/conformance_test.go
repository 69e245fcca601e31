package linkedin_test

import (
	"testing"

	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

// The plugin binary passes the conformance kit through the real gRPC path, against the
// fake LinkedIn, posting as the connected member (learnt from userinfo) and as a page.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-linkedin")
	for _, author := range []string{"", page} {
		srv := newServer(t)
		conformance.Run(t, conformance.Config{
			Binary:   bin,
			Settings: settings(srv, "author", author, "state_dir", t.TempDir(), "client_id", srv.ClientID, "client_secret", srv.ClientSecret),
		})
		if n := len(srv.Posts()); n != 0 {
			t.Errorf("%d posts left after the kit's publish and delete, want 0", n)
		}
		if n := srv.Count("POST", "/rest/posts"); n != 1 {
			t.Errorf("%d post creations; the kit publishes once (the over-long post is refused before sending)", n)
		}
	}
}

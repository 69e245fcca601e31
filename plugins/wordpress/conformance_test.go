package wordpress_test

import (
	"strconv"
	"testing"

	"github.com/tact-hq/tact/plugins/sdk/conformance"
	"github.com/tact-hq/tact/plugins/wordpress/wordpresstest"
)

func itoa(i int) string { return strconv.Itoa(i) }

// The plugin binary passes the conformance kit through the real gRPC path, against the
// fake WordPress, with pretty and with plain permalinks.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	bin := conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-wordpress")
	for _, plain := range []bool{false, true} {
		srv := wordpresstest.New(t)
		srv.PlainPermalinks = plain
		conformance.Run(t, conformance.Config{Binary: bin, Settings: srv.Settings()})
		posts := srv.Posts()
		if len(posts) != 1 || posts[0].Status != "trash" {
			t.Errorf("posts after the kit's publish and delete: %+v, want one in the trash", posts)
		}
		if n := srv.Count("POST", "/wp/v2/posts"); n != 1 {
			t.Errorf("%d post creations; the kit publishes once", n)
		}
	}
}

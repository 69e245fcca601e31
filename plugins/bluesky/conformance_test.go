package bluesky_test

import (
	"testing"

	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

// The plugin binary passes the conformance kit through the real gRPC path, against the fake PDS.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	srv := newServer(t)
	conformance.Run(t, conformance.Config{
		Binary:   conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-bluesky"),
		Settings: map[string]string{"service": srv.URL, "identifier": srv.Handle, "app_password": srv.AppPassword},
	})
	if n := len(srv.Records()); n != 0 {
		t.Errorf("%d records left after the kit's publish and delete, want 0", n)
	}
}

package bluesky_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

func buildPlugin(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build %s: %v", pkg, err)
	}
	return out
}

// The plugin binary passes the conformance kit through the real gRPC path, against the fake PDS.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	srv := newServer(t)
	conformance.Run(t, conformance.Config{
		Binary:   buildPlugin(t, "github.com/tact-hq/tact/cmd/tact-plugin-bluesky"),
		Settings: map[string]string{"service": srv.URL, "identifier": srv.Handle, "app_password": srv.AppPassword},
	})
	if n := len(srv.Records()); n != 0 {
		t.Errorf("%d records left after the kit's publish and delete, want 0", n)
	}
}

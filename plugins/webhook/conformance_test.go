package webhook_test

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

// The plugin binary passes the conformance kit through the real gRPC path, against the
// fake receiver, which checks every signature.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	rcv := newReceiver(t)
	conformance.Run(t, conformance.Config{
		Binary:   buildPlugin(t, "github.com/tact-hq/tact/cmd/tact-plugin-webhook"),
		Settings: map[string]string{"url": rcv.URL, "secret": secret},
	})
	if rcv.Rejected() != 0 {
		t.Errorf("the receiver rejected %d signatures", rcv.Rejected())
	}
	if n := len(rcv.Deliveries()); n != 0 {
		t.Errorf("%d deliveries left after the kit's publish and delete, want 0", n)
	}
}

package webhook_test

import (
	"testing"

	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

// The plugin binary passes the conformance kit through the real gRPC path, against the
// fake receiver, which checks every signature.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	rcv := newReceiver(t)
	conformance.Run(t, conformance.Config{
		Binary:   conformance.Build(t, "github.com/tact-hq/tact/cmd/tact-plugin-webhook"),
		Settings: map[string]string{"url": rcv.URL, "secret": secret},
	})
	if rcv.Rejected() != 0 {
		t.Errorf("the receiver rejected %d signatures", rcv.Rejected())
	}
	if n := len(rcv.Deliveries()); n != 0 {
		t.Errorf("%d deliveries left after the kit's publish and delete, want 0", n)
	}
}

package api_test

import (
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/clock"
)

// [daemon] late is the grace of campaigns that set none; a campaign's own late wins.
func TestDefaultLateFromTheDaemon(t *testing.T) {
	e := newEnv(t, func(o *api.Options, _ *clock.Fake) { o.DefaultLate = 5 * time.Minute })
	if got := e.campaign("spring", nil).str("late"); got != "5m0s" {
		t.Fatalf("campaign without late got %q, want the daemon's 5m0s", got)
	}
	if got := e.campaign("autumn", map[string]any{"late": "1h"}).str("late"); got != "1h0m0s" {
		t.Fatalf("campaign with late=1h got %q", got)
	}
}

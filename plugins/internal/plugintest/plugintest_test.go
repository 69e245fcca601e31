package plugintest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

func TestWantKind(t *testing.T) {
	rate := sdk.RateLimit(time.Minute, "mastodon: slow down")
	if e := WantKind(t, fmt.Errorf("media[0]: %w", rate), sdk.RateLimited, "slow down"); e.RetryAfter != time.Minute {
		t.Errorf("WantKind returned %+v, not the wrapped error", e)
	}
	if msg := FatalMessage(t, func(tb testing.TB) { WantKind(tb, rate, sdk.RateLimited, "slow down") }); msg != "" {
		t.Errorf("WantKind failed on a matching error: %s", msg)
	}
	for name, check := range map[string]func(tb testing.TB){
		"other kind":  func(tb testing.TB) { WantKind(tb, rate, sdk.Permanent, "slow down") },
		"untyped":     func(tb testing.TB) { WantKind(tb, errors.New("slow down"), sdk.Retryable, "slow down") },
		"nil":         func(tb testing.TB) { WantKind(tb, nil, sdk.Permanent, "") },
		"other words": func(tb testing.TB) { WantKind(tb, rate, sdk.RateLimited, "too many") },
	} {
		if msg := FatalMessage(t, check); msg == "" {
			t.Errorf("%s: WantKind passed", name)
		}
	}
}

func TestContextEndsWithTheTest(t *testing.T) {
	var ctx context.Context
	t.Run("inner", func(t *testing.T) {
		ctx = Context(t)
		if d, ok := ctx.Deadline(); !ok || time.Until(d) > 20*time.Second {
			t.Errorf("deadline %v, %v; want within 20s", d, ok)
		}
	})
	if ctx.Err() == nil {
		t.Error("the context outlived its test")
	}
}

package plugintest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// fatalRecorder is a testing.TB whose Fatalf records the message and ends the goroutine.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func fails(t *testing.T, check func(tb testing.TB)) string {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(rec)
	}()
	<-done
	return rec.msg
}

func TestWantKind(t *testing.T) {
	rate := sdk.RateLimit(time.Minute, "mastodon: slow down")
	if e := WantKind(t, fmt.Errorf("media[0]: %w", rate), sdk.RateLimited, "slow down"); e.RetryAfter != time.Minute {
		t.Errorf("WantKind returned %+v, not the wrapped error", e)
	}
	for name, check := range map[string]func(tb testing.TB){
		"other kind":  func(tb testing.TB) { WantKind(tb, rate, sdk.Permanent, "slow down") },
		"untyped":     func(tb testing.TB) { WantKind(tb, errors.New("slow down"), sdk.Retryable, "slow down") },
		"nil":         func(tb testing.TB) { WantKind(tb, nil, sdk.Permanent, "") },
		"other words": func(tb testing.TB) { WantKind(tb, rate, sdk.RateLimited, "too many") },
	} {
		if msg := fails(t, check); msg == "" {
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

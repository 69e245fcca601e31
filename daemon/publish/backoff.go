package publish

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces the retries of a delivery that failed with a retryable or rate-limited
// error: Base doubled per attempt, capped at Max, with up to Jitter (a fraction) taken off
// at random so that posts that failed together do not retry together. The zero Backoff
// means the defaults (30s, 30m, 0.2); a Backoff with Base set takes Jitter as given.
type Backoff struct {
	Base   time.Duration // default 30s
	Max    time.Duration // default 30m
	Jitter float64       // 0..1
}

func (b Backoff) withDefaults() Backoff {
	if b == (Backoff{}) {
		b.Jitter = 0.2
	}
	if b.Base <= 0 {
		b.Base = 30 * time.Second
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Minute
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	b.Jitter = min(max(b.Jitter, 0), 1)
	return b
}

// Delay is the wait after the given attempt (1 = the first try) failed. A network's
// retry-after is a floor: the wait is never shorter than it asked.
func (b Backoff) Delay(attempt int, retryAfter time.Duration) time.Duration {
	d := b.Base
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if b.Jitter > 0 {
		d -= time.Duration(rand.Float64() * b.Jitter * float64(d))
	}
	return max(d, retryAfter)
}

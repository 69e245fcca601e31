// Command tact-plugin-broken gets most things wrong, so the conformance kit's tests can
// show that each check fails when it should.
package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

type broken struct {
	mu sync.Mutex
	n  int
}

func (b *broken) Describe(context.Context) (sdk.Description, error) {
	b.mu.Lock() // wedged while a timed-out Lookup still holds the lock
	defer b.mu.Unlock()
	return sdk.Description{Name: "broken", MaxLength: 10, Counting: sdk.CountRunes, Capabilities: []string{"lookup", "teleport"}}, nil
}

func (b *broken) Configure(_ context.Context, s map[string]string) error {
	if len(s) == 0 {
		return errors.New("no settings") // untyped
	}
	return nil
}

func (b *broken) Validate(context.Context, sdk.Post) ([]sdk.Problem, error) { return nil, nil }

func (b *broken) Publish(context.Context, sdk.Post, string) (sdk.Receipt, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++ // a new post for every call, whatever the key
	return sdk.Receipt{RemoteID: fmt.Sprint(b.n)}, nil
}

func (b *broken) Lookup(ctx context.Context, _ string) (sdk.Receipt, bool, error) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) < 100*time.Millisecond {
		b.mu.Lock() // ignores ctx and holds the lock
		time.Sleep(3 * time.Second)
		b.mu.Unlock()
	}
	return sdk.Receipt{}, false, errors.New("cannot tell")
}

func (b *broken) Delete(context.Context, string) error { return nil }

func main() { sdk.Serve(&broken{}) }

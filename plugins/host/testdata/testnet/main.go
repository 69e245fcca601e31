// Command tact-plugin-testnet is an outbox with switches for plugins/host tests:
//   - text containing "[hang-after-write]": the post is written, then Publish never returns
//   - text containing "[hang]": Publish never returns and writes nothing
//   - text containing "[panic]": Publish panics (the process dies, its trace on stderr)
//   - Lookup of the key "hang": never returns
//   - setting marker=X: Configure logs X through slog and prints it raw to stderr
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/tact-hq/tact/plugins/outbox"
	"github.com/tact-hq/tact/plugins/sdk"
)

type testnet struct{ *outbox.Outbox }

func (t testnet) Describe(ctx context.Context) (sdk.Description, error) {
	d, err := t.Outbox.Describe(ctx)
	d.Name, d.Version = "testnet", "0.0.1-test"
	return d, err
}

func (t testnet) Configure(ctx context.Context, settings map[string]string) error {
	rest := map[string]string{}
	for k, v := range settings {
		if k == "marker" {
			slog.Info("testnet configured", "marker", v)
			fmt.Fprintln(os.Stderr, "raw stderr "+v)
			continue
		}
		rest[k] = v
	}
	return t.Outbox.Configure(ctx, rest)
}

func (t testnet) Publish(ctx context.Context, p sdk.Post, key string) (sdk.Receipt, error) {
	switch {
	case strings.Contains(p.Text, "[hang-after-write]"):
		if _, err := t.Outbox.Publish(ctx, p, key); err != nil {
			return sdk.Receipt{}, err
		}
		select {}
	case strings.Contains(p.Text, "[hang]"):
		select {}
	case strings.Contains(p.Text, "[panic]"):
		panic("testnet: asked to panic")
	}
	return t.Outbox.Publish(ctx, p, key)
}

func (t testnet) Lookup(ctx context.Context, key string) (sdk.Receipt, bool, error) {
	if key == "hang" {
		select {}
	}
	return t.Outbox.Lookup(ctx, key)
}

func main() { sdk.Serve(testnet{outbox.New(nil)}) }

package host

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tact-hq/tact/plugins/outbox"
	"github.com/tact-hq/tact/plugins/sdk"
)

// BenchmarkPublish compares Publish through the plugin process (gRPC over AutoMTLS to
// `tactd plugin outbox`) with the same outbox called in-process, in the same run.
//
//   - new-key: every post is written and fsynced; the disk dominates both sides.
//   - repeated-key: the outbox answers from its index (the idempotent path, no write), so
//     the difference between the two sides is the cost of the process boundary.
func BenchmarkPublish(b *testing.B) {
	ctx := context.Background()
	post := sdk.Post{Text: "Spring fares are out: book by Friday", Link: "https://example.com/fares"}

	viaProcess := func(b *testing.B) sdk.Network {
		path := filepath.Join(b.TempDir(), "out.jsonl")
		m := newManager(b, Config{}, Account{Name: "bench", Plugin: "outbox", Settings: map[string]string{"path": path}})
		if err := m.Start(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		net, _ := m.Network("bench")
		return net
	}
	inProcess := func(b *testing.B) sdk.Network {
		o := outbox.New(nil)
		if err := o.Configure(ctx, map[string]string{"path": filepath.Join(b.TempDir(), "out.jsonl")}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { o.Close() })
		return o
	}
	for _, side := range []struct {
		name string
		open func(*testing.B) sdk.Network
	}{{"plugin-process", viaProcess}, {"in-process", inProcess}} {
		b.Run("new-key/"+side.name, func(b *testing.B) {
			net := side.open(b)
			for i := 0; b.Loop(); i++ {
				if _, err := net.Publish(ctx, post, "k"+strconv.Itoa(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("repeated-key/"+side.name, func(b *testing.B) {
			net := side.open(b)
			if _, err := net.Publish(ctx, post, "k"); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := net.Publish(ctx, post, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

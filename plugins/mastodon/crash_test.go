package mastodon_test

import (
	"testing"

	"github.com/tact-hq/tact/plugins/internal/crashtest"
	"github.com/tact-hq/tact/plugins/mastodon/mastodontest"
	"github.com/tact-hq/tact/plugins/sdk"
)

// The real thing: the plugin binary runs as the daemon runs it, dies while the server
// (ignoring Idempotency-Key, like GoToSocial) holds the answer to a status it has already
// created, and a new plugin process, started from the same settings, must find that status
// instead of posting again.
func TestPluginProcessDiesMidPublish(t *testing.T) {
	srv := newServer(t)
	srv.IgnoreIdempotencyKey = true
	crashtest.KillMidPublish(t, crashtest.Case[mastodontest.Status]{
		Binary:   "github.com/tact-hq/tact/cmd/tact-plugin-mastodon",
		Account:  "brand",
		Settings: map[string]string{"server": srv.URL, "token": srv.Token, "state_dir": t.TempDir()},
		Post:     sdk.Post{Text: "Spring sale: 20% off https://shop.example/spring @ana@pt.example"},
		Key:      "campaign-3/post-9",
		Network:  "the server",
		Hold:     func(on bool) { srv.HoldCreates = on },
		Made:     srv.Statuses,
		ID:       func(s mastodontest.Status) string { return s.ID },
	})
}

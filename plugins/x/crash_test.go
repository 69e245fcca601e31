package x_test

import (
	"testing"

	"github.com/tact-hq/tact/plugins/internal/crashtest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/x/xtest"
)

// The real thing: the plugin binary runs as the daemon runs it and dies while X holds the
// answer to a post it has already created; a new plugin process, started from the same
// settings, must find that post (X takes no idempotency key) instead of posting again.
func TestPluginProcessDiesMidPublish(t *testing.T) {
	srv := newServer(t)
	crashtest.KillMidPublish(t, crashtest.Case[xtest.Tweet]{
		Binary:   "github.com/tact-hq/tact/cmd/tact-plugin-x",
		Account:  "brand-x",
		Settings: connectedSettings(srv, srv.IssueTokens(), "state_dir", t.TempDir()),
		Post:     sdk.Post{Text: "Spring sale: 20% off at shop.example.com/spring & more 🌸"},
		Key:      "campaign-3/post-9",
		Network:  "X",
		Hold:     func(on bool) { srv.HoldCreates = on },
		Made:     srv.Tweets,
		ID:       func(p xtest.Tweet) string { return p.ID },
	})
}

// Package builtin is the list of plugins compiled into tactd. `tactd plugin <name>` calls
// Serve, and the daemon starts each built-in account as that child process; New gives the
// same implementation in-process (benchmarks, tests, tools).
package builtin

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tact-hq/tact/plugins/bluesky"
	"github.com/tact-hq/tact/plugins/example"
	"github.com/tact-hq/tact/plugins/facebook"
	"github.com/tact-hq/tact/plugins/linkedin"
	"github.com/tact-hq/tact/plugins/mastodon"
	"github.com/tact-hq/tact/plugins/micropub"
	"github.com/tact-hq/tact/plugins/outbox"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/webhook"
	"github.com/tact-hq/tact/plugins/wordpress"
	"github.com/tact-hq/tact/plugins/x"
)

// registry maps each built-in plugin's name to its constructor. Add a network with one line.
func registry() map[string]func() sdk.Network {
	return map[string]func() sdk.Network{
		"outbox":   func() sdk.Network { return outbox.New(nil) },
		"example":  func() sdk.Network { return example.New(nil) },
		"mastodon": func() sdk.Network { return mastodon.New() },
		"bluesky":  func() sdk.Network { return bluesky.New() },
		"webhook":  func() sdk.Network { return webhook.New() },
		"linkedin": func() sdk.Network { return linkedin.New() },
		"facebook": func() sdk.Network { return facebook.New() },
		"x":        func() sdk.Network { return x.New() },

		"wordpress": func() sdk.Network { return wordpress.New() },
		"micropub":  func() sdk.Network { return micropub.New() },
	}
}

// Names lists the built-in plugins, sorted.
func Names() []string {
	var names []string
	for n := range registry() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New returns a fresh, unconfigured instance of the built-in plugin name.
func New(name string) (sdk.Network, bool) {
	f, ok := registry()[name]
	if !ok {
		return nil, false
	}
	return f(), true
}

// Serve runs the built-in plugin name as a plugin process (what `tactd plugin <name>`
// does) and returns when the daemon stops it.
func Serve(name string) error {
	n, ok := New(name)
	if !ok {
		return fmt.Errorf("no built-in plugin %q; built-ins are %s", name, strings.Join(Names(), ", "))
	}
	sdk.Serve(n)
	return nil
}

// Command tact-plugin-mastodon is the Mastodon plugin as a standalone binary (tactd also
// serves it built in, as `tactd plugin mastodon`).
package main

import (
	"github.com/tact-hq/tact/plugins/mastodon"
	"github.com/tact-hq/tact/plugins/sdk"
)

func main() { sdk.Serve(mastodon.New()) }

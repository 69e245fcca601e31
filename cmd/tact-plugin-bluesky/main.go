// Command tact-plugin-bluesky is the Bluesky plugin as a standalone binary (tactd also
// serves it built in, as `tactd plugin bluesky`).
package main

import (
	"github.com/tact-hq/tact/plugins/bluesky"
	"github.com/tact-hq/tact/plugins/sdk"
)

func main() { sdk.Serve(bluesky.New()) }

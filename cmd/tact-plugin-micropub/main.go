// Command tact-plugin-micropub is the Micropub plugin as a standalone binary (tactd also
// serves it built in, as `tactd plugin micropub`).
package main

import (
	"github.com/tact-hq/tact/plugins/micropub"
	"github.com/tact-hq/tact/plugins/sdk"
)

func main() { sdk.Serve(micropub.New()) }

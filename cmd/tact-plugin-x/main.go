// Command tact-plugin-x is the X (Twitter) plugin as a standalone binary (tactd also
// serves it built in, as `tactd plugin x`).
package main

import (
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/x"
)

func main() { sdk.Serve(x.New()) }

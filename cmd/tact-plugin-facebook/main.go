// Command tact-plugin-facebook is the Facebook Pages plugin as a standalone binary (tactd
// also serves it built in, as `tactd plugin facebook`).
package main

import (
	"github.com/tact-hq/tact/plugins/facebook"
	"github.com/tact-hq/tact/plugins/sdk"
)

func main() { sdk.Serve(facebook.New()) }

// Command tact-plugin-linkedin is the LinkedIn plugin as a standalone binary (tactd also
// serves it built in, as `tactd plugin linkedin`).
package main

import (
	"github.com/tact-hq/tact/plugins/linkedin"
	"github.com/tact-hq/tact/plugins/sdk"
)

func main() { sdk.Serve(linkedin.New()) }

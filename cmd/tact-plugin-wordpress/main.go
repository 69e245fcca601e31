// Command tact-plugin-wordpress is the WordPress plugin as a standalone binary (tactd also
// serves it built in, as `tactd plugin wordpress`).
package main

import (
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/wordpress"
)

func main() { sdk.Serve(wordpress.New()) }

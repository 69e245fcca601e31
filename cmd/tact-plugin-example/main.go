// Command tact-plugin-example is the example plugin: copy it, with plugins/example, to
// start a plugin of your own. Install it into tactd's plugin_dir.
package main

import (
	"github.com/tact-hq/tact/plugins/example"
	"github.com/tact-hq/tact/plugins/sdk"
)

func main() { sdk.Serve(example.New(nil)) }

// Command tact-plugin-outbox is the outbox plugin as a standalone binary (tactd also
// serves it built in, as `tactd plugin outbox`).
package main

import (
	"github.com/tact-hq/tact/plugins/outbox"
	"github.com/tact-hq/tact/plugins/sdk"
)

func main() { sdk.Serve(outbox.New(nil)) }

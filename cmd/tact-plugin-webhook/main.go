// Command tact-plugin-webhook is the webhook plugin as a standalone binary (tactd also
// serves it built in, as `tactd plugin webhook`).
package main

import (
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/webhook"
)

func main() { sdk.Serve(webhook.New()) }

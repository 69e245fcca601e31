// Command tact-plugin-wrongversion is a plugin built for tact plugin protocol 2, which
// this daemon (protocol 1) must refuse by name.
package main

import (
	"github.com/hashicorp/go-plugin"

	"github.com/tact-hq/tact/plugins/outbox"
	"github.com/tact-hq/tact/plugins/sdk"
)

func main() {
	hs := sdk.Handshake()
	hs.ProtocolVersion = 2
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         plugin.PluginSet{sdk.PluginKey: &sdk.GRPCPlugin{Impl: outbox.New(nil)}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}

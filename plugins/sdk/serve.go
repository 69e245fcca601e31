package sdk

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pluginpb "github.com/tact-hq/tact/plugins/proto"
)

// Versions. ProtocolVersion is the major version checked in the go-plugin handshake: a
// daemon refuses a plugin built for another major version. APIVersion is the minor
// version inside it, exchanged through Describe, so a newer daemon can tell which
// additions an older plugin understands and the other way round.
const (
	ProtocolVersion = 1
	// APIVersion 2: attachments come as bytes (Media.Data), never as a path or URL.
	// APIVersion 3: accounts connect through OAuth (Authorizer: AuthCodeURL, Exchange,
	// Refresh), and Configure may be called again on a running process with rotated
	// credentials (docs/plugins.md, "Connecting accounts").
	APIVersion = 3
)

// The handshake cookie tells a tact plugin it was started by tactd (and not by a person
// or another go-plugin host). It is not a secret.
const (
	MagicCookieKey   = "TACT_PLUGIN"
	MagicCookieValue = "d2b1c6f0-tact-network-plugin"
)

// PluginKey is the name under which the network is dispensed over go-plugin.
const PluginKey = "network"

// Handshake is the go-plugin handshake shared by tactd and every tact plugin.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   MagicCookieKey,
		MagicCookieValue: MagicCookieValue,
	}
}

// Serve runs impl as a plugin process and returns when the daemon stops it. Call it from
// main and nothing else:
//
//	func main() { sdk.Serve(mynetwork.New()) }
//
// Serve makes slog.Default write to the daemon's log: log with log/slog and your lines
// appear in tactd's log with the account's name and their level. Started by hand (not by
// tactd), the binary prints a note saying it is a plugin and exits with status 1.
func Serve(impl Network) {
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "plugin",
		Level:      hclog.Debug,
		Output:     os.Stderr,
		JSONFormat: true,
	})
	slog.SetDefault(slog.New(newLogHandler(os.Stderr, slog.LevelDebug)))
	go exitWithParent(os.Getppid(), time.Second)
	// The daemon stops its plugins itself, after the publishes in flight have finished.
	// A SIGTERM sent to the whole process group (systemd's default KillMode, a terminal's
	// job control) must not end a plugin in the middle of a publish; go-plugin eats SIGINT
	// for the same reason. The plugin still dies with the daemon (exitWithParent).
	signal.Ignore(syscall.SIGTERM)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake(),
		Plugins:         plugin.PluginSet{PluginKey: &GRPCPlugin{Impl: impl}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			// A Publish carries its attachments' bytes: more than gRPC's 4 MiB default.
			return plugin.DefaultGRPCServer(append(opts, grpc.MaxRecvMsgSize(MaxMessageBytes)))
		},
		Logger: logger,
	})
}

// GRPCPlugin is the go-plugin glue between Network and the tact.plugin.v1 gRPC service.
// Plugin authors do not use it: Serve does on the plugin side, plugins/host on the
// daemon side (with Impl nil).
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Network
}

// GRPCServer registers the plugin's implementation.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginpb.RegisterNetworkServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient returns a Network that calls the plugin process. Errors the plugin reported
// come back as *Error (typed) or as plain errors (the plugin returned an untyped error);
// failures of the call itself (process gone, deadline passed) are gRPC status errors,
// which the daemon treats as "outcome unknown" for Publish.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{rpc: pluginpb.NewNetworkClient(c)}, nil
}

// exitWithParent ends the plugin process when the daemon that started it is gone (its
// parent changes: the daemon was killed with SIGKILL and the process was re-parented), so
// that no orphan keeps an account's files or connections after a crash. The daemon also
// asks the kernel for this where it can (Pdeathsig on Linux); this check covers the rest.
func exitWithParent(parent int, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}

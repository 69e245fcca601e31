// Package pluginpb is the generated gRPC code for tact.plugin.v1 (tact.proto), the wire
// contract between tactd and plugin processes. Only plugins/sdk and plugins/host use it;
// plugin authors see Go types from plugins/sdk, never these messages.
package pluginpb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative tact.proto

package sdk

import (
	"context"

	pluginpb "github.com/tact-hq/tact/plugins/proto"
)

// server answers the gRPC calls in the plugin process by calling the author's Network.
// Every error the author returns travels inside the response (never as a gRPC status),
// so the daemon can tell the network's answer from a broken transport.
type server struct {
	pluginpb.UnimplementedNetworkServer
	impl Network
}

func (s *server) Describe(ctx context.Context, _ *pluginpb.DescribeRequest) (*pluginpb.DescribeResponse, error) {
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return &pluginpb.DescribeResponse{Error: errorToProto(err), ApiVersion: APIVersion}, nil
	}
	resp := descriptionToProto(d)
	resp.ApiVersion = APIVersion
	return resp, nil
}

func (s *server) Configure(ctx context.Context, req *pluginpb.ConfigureRequest) (*pluginpb.ConfigureResponse, error) {
	settings := req.GetSettings()
	if settings == nil {
		settings = map[string]string{}
	}
	return &pluginpb.ConfigureResponse{Error: errorToProto(s.impl.Configure(ctx, settings))}, nil
}

func (s *server) Validate(ctx context.Context, req *pluginpb.ValidateRequest) (*pluginpb.ValidateResponse, error) {
	problems, err := s.impl.Validate(ctx, postFromProto(req.GetPost()))
	if err != nil {
		return &pluginpb.ValidateResponse{Error: errorToProto(err)}, nil
	}
	return &pluginpb.ValidateResponse{Problems: problemsToProto(problems)}, nil
}

func (s *server) Publish(ctx context.Context, req *pluginpb.PublishRequest) (*pluginpb.PublishResponse, error) {
	if req.GetIdempotencyKey() == "" {
		return &pluginpb.PublishResponse{Error: errorToProto(Errorf(Permanent, "publish without an idempotency key"))}, nil
	}
	r, err := s.impl.Publish(ctx, postFromProto(req.GetPost()), req.GetIdempotencyKey())
	if err != nil {
		return &pluginpb.PublishResponse{Error: errorToProto(err)}, nil
	}
	return &pluginpb.PublishResponse{Receipt: receiptToProto(r)}, nil
}

func (s *server) Lookup(ctx context.Context, req *pluginpb.LookupRequest) (*pluginpb.LookupResponse, error) {
	r, found, err := s.impl.Lookup(ctx, req.GetIdempotencyKey())
	if err != nil {
		return &pluginpb.LookupResponse{Error: errorToProto(err)}, nil
	}
	resp := &pluginpb.LookupResponse{Found: found}
	if found {
		resp.Receipt = receiptToProto(r)
	}
	return resp, nil
}

func (s *server) Delete(ctx context.Context, req *pluginpb.DeleteRequest) (*pluginpb.DeleteResponse, error) {
	return &pluginpb.DeleteResponse{Error: errorToProto(s.impl.Delete(ctx, req.GetRemoteId()))}, nil
}

func (s *server) Trends(ctx context.Context, _ *pluginpb.TrendsRequest) (*pluginpb.TrendsResponse, error) {
	t, ok := s.impl.(Trender)
	if !ok {
		return &pluginpb.TrendsResponse{Error: errorToProto(Errorf(Permanent, "this network offers no trends"))}, nil
	}
	trends, err := t.Trends(ctx)
	if err != nil {
		return &pluginpb.TrendsResponse{Error: errorToProto(err)}, nil
	}
	return &pluginpb.TrendsResponse{Trends: trendsToProto(trends)}, nil
}

package sdk

import (
	"context"
	"errors"

	pluginpb "github.com/tact-hq/tact/plugins/proto"
	"google.golang.org/grpc/status"
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
	var typed *Error
	if err != nil && ctx.Err() != nil && !errors.As(err, &typed) {
		// The daemon's deadline passed (or it went away) while the plugin worked: whatever
		// the plugin returns then ("context deadline exceeded"), the post may or may not be
		// out. Answered as the deadline itself, the daemon treats it as an unknown outcome
		// and asks Lookup, whichever of this answer and its own deadline it sees first;
		// reported as the plugin's error, it could be taken for "retry" and sent twice.
		return nil, status.FromContextError(ctx.Err()).Err()
	}
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

// authorizer is the author's Authorizer, or nil with the error every call then answers.
func (s *server) authorizer() (Authorizer, *pluginpb.Error) {
	if a, ok := s.impl.(Authorizer); ok {
		return a, nil
	}
	return nil, errorToProto(Errorf(Permanent, "this network does not connect accounts through OAuth: set its credentials in tact.toml"))
}

func (s *server) AuthCodeURL(ctx context.Context, req *pluginpb.AuthCodeURLRequest) (*pluginpb.AuthCodeURLResponse, error) {
	a, perr := s.authorizer()
	if a == nil {
		return &pluginpb.AuthCodeURLResponse{Error: perr}, nil
	}
	u, err := a.AuthCodeURL(ctx, AuthRequest{RedirectURI: req.GetRedirectUri(), State: req.GetState(), CodeChallenge: req.GetCodeChallenge()})
	if err != nil {
		return &pluginpb.AuthCodeURLResponse{Error: errorToProto(err)}, nil
	}
	return &pluginpb.AuthCodeURLResponse{Url: u}, nil
}

func (s *server) Exchange(ctx context.Context, req *pluginpb.ExchangeRequest) (*pluginpb.ExchangeResponse, error) {
	a, perr := s.authorizer()
	if a == nil {
		return &pluginpb.ExchangeResponse{Error: perr}, nil
	}
	c, err := a.Exchange(ctx, ExchangeRequest{Code: req.GetCode(), CodeVerifier: req.GetCodeVerifier(), RedirectURI: req.GetRedirectUri()})
	if err != nil {
		return &pluginpb.ExchangeResponse{Error: errorToProto(err)}, nil
	}
	return &pluginpb.ExchangeResponse{Credentials: credentialsToProto(c)}, nil
}

func (s *server) Refresh(ctx context.Context, req *pluginpb.RefreshRequest) (*pluginpb.RefreshResponse, error) {
	a, perr := s.authorizer()
	if a == nil {
		return &pluginpb.RefreshResponse{Error: perr}, nil
	}
	c, err := a.Refresh(ctx, credentialsFromProto(req.GetCredentials()))
	if err != nil {
		return &pluginpb.RefreshResponse{Error: errorToProto(err)}, nil
	}
	return &pluginpb.RefreshResponse{Credentials: credentialsToProto(c)}, nil
}

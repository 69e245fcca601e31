package sdk

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pluginpb "github.com/tact-hq/tact/plugins/proto"
)

// Client is the daemon's side of one plugin process: a Network (and Trender, Authorizer) whose
// methods are gRPC calls. plugins/host wraps it with process management; nobody else
// needs it.
//
// Errors: what the plugin reported arrives as *Error, or as a plain error when the plugin
// returned an untyped one; a failed call (process gone, deadline passed) is returned as
// the gRPC status error, wrapped, so status.Code(err) tells them apart.
type Client struct {
	rpc        pluginpb.NetworkClient
	apiVersion atomic.Uint32
}

var (
	_ Network    = (*Client)(nil)
	_ Trender    = (*Client)(nil)
	_ Authorizer = (*Client)(nil)
)

// APIVersion is the plugin's minor API version, known after the first Describe (0 before).
func (c *Client) APIVersion() int { return int(c.apiVersion.Load()) }

// Describe asks the plugin what it accepts, and records its API version.
func (c *Client) Describe(ctx context.Context) (Description, error) {
	resp, err := c.rpc.Describe(ctx, &pluginpb.DescribeRequest{HostApiVersion: APIVersion})
	if err != nil {
		return Description{}, callError("Describe", err)
	}
	c.apiVersion.Store(resp.GetApiVersion())
	if err := errorFromProto(resp.GetError()); err != nil {
		return Description{}, err
	}
	return descriptionFromProto(resp), nil
}

// Configure hands the account's settings to the plugin.
func (c *Client) Configure(ctx context.Context, settings map[string]string) error {
	resp, err := c.rpc.Configure(ctx, &pluginpb.ConfigureRequest{Settings: settings})
	if err != nil {
		return callError("Configure", err)
	}
	return errorFromProto(resp.GetError())
}

// Validate asks the plugin what the network would refuse in p.
func (c *Client) Validate(ctx context.Context, p Post) ([]Problem, error) {
	resp, err := c.rpc.Validate(ctx, &pluginpb.ValidateRequest{Post: postToProto(p)})
	if err != nil {
		return nil, callError("Validate", err)
	}
	if err := errorFromProto(resp.GetError()); err != nil {
		return nil, err
	}
	return problemsFromProto(resp.GetProblems()), nil
}

// Publish asks the plugin to publish p under idempotencyKey.
func (c *Client) Publish(ctx context.Context, p Post, idempotencyKey string) (Receipt, error) {
	resp, err := c.rpc.Publish(ctx, &pluginpb.PublishRequest{Post: postToProto(p), IdempotencyKey: idempotencyKey})
	if err != nil {
		return Receipt{}, callError("Publish", err)
	}
	if err := errorFromProto(resp.GetError()); err != nil {
		return Receipt{}, err
	}
	return receiptFromProto(resp.GetReceipt()), nil
}

// Lookup asks the plugin for an earlier publish by idempotency key.
func (c *Client) Lookup(ctx context.Context, idempotencyKey string) (Receipt, bool, error) {
	resp, err := c.rpc.Lookup(ctx, &pluginpb.LookupRequest{IdempotencyKey: idempotencyKey})
	if err != nil {
		return Receipt{}, false, callError("Lookup", err)
	}
	if err := errorFromProto(resp.GetError()); err != nil {
		return Receipt{}, false, err
	}
	if !resp.GetFound() {
		return Receipt{}, false, nil
	}
	return receiptFromProto(resp.GetReceipt()), true, nil
}

// Delete asks the plugin to remove a published post.
func (c *Client) Delete(ctx context.Context, remoteID string) error {
	resp, err := c.rpc.Delete(ctx, &pluginpb.DeleteRequest{RemoteId: remoteID})
	if err != nil {
		return callError("Delete", err)
	}
	return errorFromProto(resp.GetError())
}

// Trends asks the plugin for trending topics; a plugin without them answers Permanent.
func (c *Client) Trends(ctx context.Context) ([]Trend, error) {
	resp, err := c.rpc.Trends(ctx, &pluginpb.TrendsRequest{})
	if err != nil {
		return nil, callError("Trends", err)
	}
	if err := errorFromProto(resp.GetError()); err != nil {
		return nil, err
	}
	return trendsFromProto(resp.GetTrends()), nil
}

// AuthCodeURL asks the plugin for the network's consent page. A plugin without Authorizer
// answers Permanent, and so does one built with an SDK older than API version 3.
func (c *Client) AuthCodeURL(ctx context.Context, req AuthRequest) (string, error) {
	resp, err := c.rpc.AuthCodeURL(ctx, &pluginpb.AuthCodeURLRequest{RedirectUri: req.RedirectURI, State: req.State, CodeChallenge: req.CodeChallenge})
	if err != nil {
		return "", authCallError("AuthCodeURL", err)
	}
	if err := errorFromProto(resp.GetError()); err != nil {
		return "", err
	}
	return resp.GetUrl(), nil
}

// Exchange asks the plugin to trade an authorization code for credentials.
func (c *Client) Exchange(ctx context.Context, req ExchangeRequest) (Credentials, error) {
	resp, err := c.rpc.Exchange(ctx, &pluginpb.ExchangeRequest{Code: req.Code, CodeVerifier: req.CodeVerifier, RedirectUri: req.RedirectURI})
	if err != nil {
		return Credentials{}, authCallError("Exchange", err)
	}
	if err := errorFromProto(resp.GetError()); err != nil {
		return Credentials{}, err
	}
	return credentialsFromProto(resp.GetCredentials()), nil
}

// Refresh asks the plugin for new credentials in exchange for cr's refresh token.
func (c *Client) Refresh(ctx context.Context, cr Credentials) (Credentials, error) {
	resp, err := c.rpc.Refresh(ctx, &pluginpb.RefreshRequest{Credentials: credentialsToProto(cr)})
	if err != nil {
		return Credentials{}, authCallError("Refresh", err)
	}
	if err := errorFromProto(resp.GetError()); err != nil {
		return Credentials{}, err
	}
	return credentialsFromProto(resp.GetCredentials()), nil
}

// authCallError is callError, except that a plugin whose SDK predates the Authorizer calls
// (gRPC Unimplemented) answers as one without Authorizer does: Permanent.
func authCallError(method string, err error) error {
	if status.Code(err) == codes.Unimplemented {
		return Errorf(Permanent, "the plugin cannot connect accounts (%s is not implemented: it was built with a plugins/sdk older than API version 3)", method)
	}
	return callError(method, err)
}

// callError wraps a failed gRPC call; the status stays reachable through errors.As
// (status.Code and status.FromError unwrap).
func callError(method string, err error) error {
	return fmt.Errorf("plugin call %s failed: %w", method, err)
}

// errorFromProto turns a reported error back into what the plugin returned: *Error for a
// typed one, a plain error for an untyped one (KindOf still says Retryable).
func errorFromProto(e *pluginpb.Error) error {
	if e == nil {
		return nil
	}
	if e.GetUntyped() {
		return errors.New(e.GetMessage())
	}
	return &Error{Kind: kindFromProto(e.GetKind()), RetryAfter: msDuration(e.GetRetryAfterMs()), Message: e.GetMessage()}
}

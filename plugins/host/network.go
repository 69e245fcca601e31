package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tact-hq/tact/plugins/sdk"
)

// network is what Manager.Network returns: the account's calls, each with a deadline,
// through whatever process currently serves the account.
type network struct{ p *proc }

var (
	_ sdk.Network = (*network)(nil)
	_ sdk.Trender = (*network)(nil)
)

// call runs fn against the account's process. A failure of the call itself (not an error
// the plugin reported) is reported to the process, which restarts it if it died.
func call[T any](ctx context.Context, n *network, fn func(context.Context, *sdk.Client) (T, error)) (T, bool, error) {
	return callProc(ctx, n.p, fn)
}

// callProc is call on any of an account's processes (its own, or its authorizer).
func callProc[T any](ctx context.Context, p *proc, fn func(context.Context, *sdk.Client) (T, error)) (T, bool, error) {
	ctx, cancel := p.m.withDeadline(ctx)
	defer cancel()
	var zero T
	c, gen, err := p.acquire(ctx)
	if err != nil {
		return zero, false, err
	}
	v, err := fn(ctx, c)
	if err != nil && isTransport(err) {
		if isCoding(err) {
			// The request or the answer could not be encoded as protobuf (a string that is
			// not UTF-8): the process is fine, and trying again cannot help. Retryable (an
			// untyped error) made the API answer 503 "try again" and the publisher retry.
			return v, true, sdk.Errorf(sdk.Permanent, "account %q: the call could not be encoded for the plugin (%v): a text is probably not valid UTF-8; correct it", p.acct.Name, status.Convert(err).Message())
		}
		p.callFailed(gen, err)
		return v, true, fmt.Errorf("account %q: %w", p.acct.Name, err)
	}
	return v, false, err
}

// isCoding tells a call that failed because a message could not be marshalled or
// unmarshalled (grpc-go reports both as Internal with these words) from a dead process.
func isCoding(err error) bool {
	s, ok := status.FromError(err)
	return ok && s.Code() == codes.Internal &&
		(strings.Contains(s.Message(), "error while marshaling") || strings.Contains(s.Message(), "failed to unmarshal"))
}

// postUTF8 refuses a post with a text that is not UTF-8 before it is sent: protobuf would
// refuse to encode it, and after a Publish call fails that way the host cannot tell
// whether the plugin got it (its answer may be what failed), so it is checked here, where
// the outcome is still certain: not sent.
func postUTF8(account string, p sdk.Post) error {
	fields := []struct{ name, v string }{{"text", p.Text}, {"link", p.Link}, {"language", p.Language}}
	for i, m := range p.Media {
		fields = append(fields, struct{ name, v string }{fmt.Sprintf("media %d alt text", i+1), m.Alt},
			struct{ name, v string }{fmt.Sprintf("media %d id", i+1), m.ID}, struct{ name, v string }{fmt.Sprintf("media %d type", i+1), m.MimeType})
	}
	for _, f := range fields {
		if !utf8.ValidString(f.v) {
			return sdk.Errorf(sdk.Permanent, "account %q: the post's %s is not valid UTF-8, so it cannot be sent to the plugin; correct it", account, f.name)
		}
	}
	return nil
}

// isTransport tells a failed call (gRPC status) from an error the plugin reported.
func isTransport(err error) bool {
	var typed *sdk.Error
	if errors.As(err, &typed) {
		return false
	}
	_, ok := status.FromError(err)
	return ok
}

func (n *network) Describe(ctx context.Context) (sdk.Description, error) {
	d, _, err := call(ctx, n, func(ctx context.Context, c *sdk.Client) (sdk.Description, error) { return c.Describe(ctx) })
	return d, err
}

// Configure is refused: the manager configures each process with its account's settings
// when it starts it; change settings through Manager.Update.
func (n *network) Configure(context.Context, map[string]string) error {
	return sdk.Errorf(sdk.Permanent, "account %q: settings come from the configuration; reload it to change them", n.p.acct.Name)
}

func (n *network) Validate(ctx context.Context, post sdk.Post) ([]sdk.Problem, error) {
	ps, _, err := call(ctx, n, func(ctx context.Context, c *sdk.Client) ([]sdk.Problem, error) { return c.Validate(ctx, post) })
	return ps, err
}

// Publish sends the post. If the call itself fails (the process died, the deadline
// passed) the post may or may not be out: the error then satisfies OutcomeUnknown.
func (n *network) Publish(ctx context.Context, post sdk.Post, key string) (sdk.Receipt, error) {
	if err := postUTF8(n.p.acct.Name, post); err != nil {
		return sdk.Receipt{}, err
	}
	r, transport, err := call(ctx, n, func(ctx context.Context, c *sdk.Client) (sdk.Receipt, error) {
		return c.Publish(ctx, post, key)
	})
	if transport {
		return sdk.Receipt{}, &outcomeUnknownError{account: n.p.acct.Name, key: key, err: err}
	}
	return r, err
}

func (n *network) Lookup(ctx context.Context, key string) (sdk.Receipt, bool, error) {
	type res struct {
		r     sdk.Receipt
		found bool
	}
	v, _, err := call(ctx, n, func(ctx context.Context, c *sdk.Client) (res, error) {
		r, found, err := c.Lookup(ctx, key)
		return res{r, found}, err
	})
	return v.r, v.found, err
}

func (n *network) Delete(ctx context.Context, remoteID string) error {
	_, _, err := call(ctx, n, func(ctx context.Context, c *sdk.Client) (struct{}, error) {
		return struct{}{}, c.Delete(ctx, remoteID)
	})
	return err
}

func (n *network) Trends(ctx context.Context) ([]sdk.Trend, error) {
	ts, _, err := call(ctx, n, func(ctx context.Context, c *sdk.Client) ([]sdk.Trend, error) { return c.Trends(ctx) })
	return ts, err
}

// outcomeUnknownError is a Publish whose call failed after it was sent.
type outcomeUnknownError struct {
	account, key string
	err          error
}

func (e *outcomeUnknownError) Error() string {
	return fmt.Sprintf("publish with idempotency key %q: outcome unknown (resolve it with Lookup before trying again): %v", e.key, e.err)
}

func (e *outcomeUnknownError) Unwrap() error { return e.err }

// OutcomeUnknown reports whether err is a Publish that may or may not have reached the
// network: the process died or the deadline passed while the call was out. Resolve it
// with Lookup (after the restart) and never resend blindly. Errors the plugin reported,
// and failures before the call was sent, are not outcome-unknown.
func OutcomeUnknown(err error) bool {
	var e *outcomeUnknownError
	return errors.As(err, &e)
}

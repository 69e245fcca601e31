package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

const maxResponse = 4 << 20

// session is what createSession and refreshSession return.
type session struct {
	AccessJwt  string `json:"accessJwt"`
	RefreshJwt string `json:"refreshJwt"`
	Handle     string `json:"handle"`
	DID        string `json:"did"`
}

// xrpcError is an XRPC error answer: {"error": "ExpiredToken", "message": "..."}.
type xrpcError struct {
	Status  int
	Name    string `json:"error"`
	Message string `json:"message"`
	header  http.Header
}

// sessionProblem reports whether renewing the session may cure the error.
func (xe *xrpcError) sessionProblem() bool {
	return xe.Status == http.StatusUnauthorized ||
		(xe.Status == http.StatusBadRequest && (xe.Name == "ExpiredToken" || xe.Name == "InvalidToken"))
}

// callError is a failed XRPC call: the typed sdk error, and the XRPC error name for
// callers that tell "not found" from other failures.
type callError struct {
	xrpc *xrpcError
	err  *sdk.Error
}

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// send performs one HTTP exchange. A transport failure is a Retryable error; an XRPC error
// answer is returned as xe for the caller to judge.
func (n *Network) send(ctx context.Context, method, nsid string, query url.Values, body []byte, contentType, bearer string, out any) (*xrpcError, error) {
	service := n.account().service
	u := service + "/xrpc/" + nsid
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, sdk.Errorf(sdk.Permanent, "bluesky: building %s: %v", nsid, err)
	}
	req.GetBody = nil // never let net/http resend a write on its own
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tact-plugin-bluesky/"+Version)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, sdk.Errorf(sdk.Retryable, "bluesky: %s at %s: %v", nsid, redact.URL(service), redact.Error(err, service))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, sdk.Errorf(sdk.Retryable, "bluesky: reading answer to %s: %v", nsid, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				return nil, sdk.Errorf(sdk.Retryable, "bluesky: %s answered %d with JSON we cannot read: %v", nsid, resp.StatusCode, err)
			}
		}
		return nil, nil
	}
	xe := &xrpcError{Status: resp.StatusCode, header: resp.Header}
	if json.Unmarshal(data, xe) != nil || xe.Name == "" {
		xe.Name = http.StatusText(resp.StatusCode)
		xe.Message = sdk.Excerpt(string(data), 200)
	}
	return xe, nil
}

// call is an authenticated XRPC call. When the PDS says the access token expired (or does
// not accept it) the session is renewed, refreshSession first and createSession if that is
// refused, and the call is made once more.
func (n *Network) call(ctx context.Context, method, nsid string, query url.Values, body []byte, contentType string, out any) error {
	token := n.accessToken()
	xe, err := n.send(ctx, method, nsid, query, body, contentType, token, out)
	if err != nil || xe == nil {
		return err
	}
	if xe.sessionProblem() {
		if err := n.renew(ctx, token); err != nil {
			return err
		}
		if xe, err = n.send(ctx, method, nsid, query, body, contentType, n.accessToken(), out); err != nil || xe == nil {
			return err
		}
	}
	return n.typed(nsid, xe)
}

// postJSON calls a procedure with a JSON body.
func (n *Network) postJSON(ctx context.Context, nsid string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return sdk.Errorf(sdk.Permanent, "bluesky: encoding %s: %v", nsid, err)
	}
	return n.call(ctx, http.MethodPost, nsid, nil, body, "application/json", out)
}

func (n *Network) accessToken() string {
	n.sessMu.Lock()
	defer n.sessMu.Unlock()
	return n.sess.AccessJwt
}

// renew replaces the session whose access token failed. Concurrent callers that saw the same
// token wait here and find it already replaced.
func (n *Network) renew(ctx context.Context, failed string) error {
	n.sessMu.Lock()
	defer n.sessMu.Unlock()
	if n.sess.AccessJwt != failed {
		return nil
	}
	var s session
	xe, err := n.send(ctx, http.MethodPost, "com.atproto.server.refreshSession", nil, nil, "", n.sess.RefreshJwt, &s)
	if err != nil {
		return err
	}
	if xe == nil && s.AccessJwt != "" {
		n.sess = s
		return nil
	}
	if xe != nil && xe.Status == http.StatusTooManyRequests {
		return n.typed("com.atproto.server.refreshSession", xe)
	}
	n.log.Info("bluesky: refresh token refused, logging in again", "did", n.sess.DID)
	s, err = n.login(ctx)
	if err != nil {
		return err
	}
	n.sess = s
	return nil
}

// login creates a session with the app password.
func (n *Network) login(ctx context.Context) (session, error) {
	a := n.account()
	body, _ := json.Marshal(map[string]string{"identifier": a.identifier, "password": a.password})
	var s session
	xe, err := n.send(ctx, http.MethodPost, "com.atproto.server.createSession", nil, body, "application/json", "", &s)
	if err != nil {
		return session{}, err
	}
	if xe != nil {
		if xe.Status == http.StatusUnauthorized || xe.Name == "AuthFactorTokenRequired" || xe.Name == "AccountTakedown" {
			return session{}, &callError{xe, &sdk.Error{Kind: sdk.Auth, Message: fmt.Sprintf(
				"bluesky: logging in as %q at %s: %s: %s: check identifier and app_password (create an app password in Settings > Privacy and security > App passwords)",
				a.identifier, a.service, xe.Name, xe.Message)}}
		}
		return session{}, n.typed("com.atproto.server.createSession", xe)
	}
	if s.AccessJwt == "" || s.DID == "" {
		return session{}, sdk.Errorf(sdk.Retryable, "bluesky: createSession at %s answered without tokens or DID: is service a PDS?", redact.URL(a.service))
	}
	return s, nil
}

// typed maps an XRPC error answer to the sdk's kinds.
func (n *Network) typed(nsid string, xe *xrpcError) error {
	e := &sdk.Error{Message: fmt.Sprintf("bluesky: %s answered %d %s: %s", nsid, xe.Status, xe.Name, xe.Message)}
	switch {
	case xe.sessionProblem():
		e.Kind = sdk.Auth
		e.Message += ": the session could not be renewed; check identifier and app_password"
	case xe.Status == http.StatusTooManyRequests:
		e.Kind, e.RetryAfter = sdk.RateLimited, retryAfter(xe.header, n.now())
	case xe.Status >= 500 || xe.Status == http.StatusRequestTimeout:
		e.Kind = sdk.Retryable
	default:
		e.Kind = sdk.Permanent
	}
	return &callError{xe, e}
}

// retryAfter reads the wait a 429 asks for: ratelimit-reset (unix seconds) as the PDS sends
// it, else Retry-After; a minute when neither is there.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if secs, err := strconv.ParseInt(strings.TrimSpace(h.Get("Ratelimit-Reset")), 10, 64); err == nil {
		return sdk.WaitUntil(time.Unix(secs, 0), now)
	}
	return sdk.RateLimitWait(h, now, time.Minute)
}

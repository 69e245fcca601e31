// Command tact-plugin-testnet is an outbox with switches for plugins/host tests:
//   - text containing "[hang-after-write]": the post is written, then Publish never returns
//   - text containing "[hang]": Publish never returns and writes nothing
//   - text containing "[panic]": Publish panics (the process dies, its trace on stderr)
//   - Lookup of the key "hang": never returns
//   - setting marker=X: Configure logs X through slog and prints it raw to stderr
//   - it connects accounts (sdk.Authorizer, "oauth"): code "refused" and refresh token
//     "revoked" are refused (Auth); access_token "refused" makes Configure refuse (Auth);
//     Describe's version ends in "+SUBJECT" once configured with credentials
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/plugins/outbox"
	"github.com/tact-hq/tact/plugins/sdk"
)

type testnet struct {
	*outbox.Outbox
	mu      *sync.Mutex
	subject *string
}

func (t testnet) Describe(ctx context.Context) (sdk.Description, error) {
	d, err := t.Outbox.Describe(ctx)
	d.Name, d.Version = "testnet", "0.0.1-test"
	d.Capabilities = append(d.Capabilities, "oauth")
	t.mu.Lock()
	if *t.subject != "" {
		d.Version += "+" + *t.subject
	}
	t.mu.Unlock()
	return d, err
}

func (t testnet) Configure(ctx context.Context, settings map[string]string) error {
	rest := map[string]string{}
	for k, v := range settings {
		switch k {
		case "marker":
			slog.Info("testnet configured", "marker", v)
			fmt.Fprintln(os.Stderr, "raw stderr "+v)
			continue
		case sdk.SettingAccessToken, sdk.SettingRefreshToken, sdk.SettingExpiresAt, sdk.SettingRefreshExpiresAt, sdk.SettingSubject:
			continue
		}
		rest[k] = v
	}
	if settings[sdk.SettingAccessToken] == "refused" {
		return sdk.Errorf(sdk.Auth, "testnet: the access token was refused")
	}
	if err := t.Outbox.Configure(ctx, rest); err != nil {
		return err
	}
	t.mu.Lock()
	*t.subject = settings[sdk.SettingSubject]
	t.mu.Unlock()
	return nil
}

func (t testnet) AuthCodeURL(_ context.Context, req sdk.AuthRequest) (string, error) {
	q := url.Values{"state": {req.State}, "code_challenge": {req.CodeChallenge}, "redirect_uri": {req.RedirectURI}}
	return "https://auth.test/authorize?" + q.Encode(), nil
}

func (t testnet) Exchange(_ context.Context, req sdk.ExchangeRequest) (sdk.Credentials, error) {
	if req.Code == "refused" {
		return sdk.Credentials{}, sdk.Errorf(sdk.Auth, "testnet: invalid_grant: the code was refused")
	}
	return sdk.Credentials{AccessToken: "token-" + req.Code, RefreshToken: "refresh-" + req.Code,
		ExpiresAt: time.Now().Add(time.Hour).UTC(), Subject: "@" + req.Code}, nil
}

func (t testnet) Refresh(_ context.Context, c sdk.Credentials) (sdk.Credentials, error) {
	if c.RefreshToken == "revoked" {
		return sdk.Credentials{}, sdk.Errorf(sdk.Auth, "testnet: invalid_grant: the refresh token was revoked")
	}
	c.AccessToken += "+1"
	return c, nil
}

func (t testnet) Publish(ctx context.Context, p sdk.Post, key string) (sdk.Receipt, error) {
	switch {
	case strings.Contains(p.Text, "[hang-after-write]"):
		if _, err := t.Outbox.Publish(ctx, p, key); err != nil {
			return sdk.Receipt{}, err
		}
		select {}
	case strings.Contains(p.Text, "[hang]"):
		select {}
	case strings.Contains(p.Text, "[panic]"):
		panic("testnet: asked to panic")
	}
	return t.Outbox.Publish(ctx, p, key)
}

func (t testnet) Lookup(ctx context.Context, key string) (sdk.Receipt, bool, error) {
	if key == "hang" {
		select {}
	}
	return t.Outbox.Lookup(ctx, key)
}

func main() { sdk.Serve(testnet{Outbox: outbox.New(nil), mu: &sync.Mutex{}, subject: new(string)}) }

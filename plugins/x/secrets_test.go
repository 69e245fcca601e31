package x_test

import (
	"net"
	"strings"
	"testing"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/x"
)

// Errors reach the account's details, which viewers read, and the audit log: they never
// repeat a token, the client secret, or a secret in a URL setting (config/redact).
func TestSecretsStayOutOfErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	const pass, token, secret, refresh = "proxy-pass-0123456789", "access-token-0123456789", "client-secret-0123456789", "refresh-token-0123456789"
	ctx := plugintest.Context(t)
	var errs []error
	for _, api := range []string{"http://proxy:" + pass + "@" + dead, "ftp://proxy:" + pass + "@api.example/", pass} {
		errs = append(errs, x.New().Configure(ctx, map[string]string{"api_url": api, "client_id": "c", "client_secret": secret, "access_token": token}))
	}
	n := x.New()
	if err := n.Configure(ctx, map[string]string{"api_url": "http://proxy:" + pass + "@" + dead, "client_id": "c", "client_secret": secret}); err != nil {
		t.Fatal(err)
	}
	_, err = n.Refresh(ctx, sdk.Credentials{AccessToken: token, RefreshToken: refresh})
	errs = append(errs, err)
	_, err = n.Exchange(ctx, sdk.ExchangeRequest{Code: "code", CodeVerifier: "v", RedirectURI: "http://127.0.0.1/cb"})
	errs = append(errs, err)

	srv := newServer(t)
	_, err = configure(t, x.New(), connectedSettings(srv, srv.IssueTokens())).Refresh(ctx, sdk.Credentials{RefreshToken: refresh})
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d succeeded", i)
		}
		for _, s := range []string{pass, token, secret, refresh} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("case %d: the error repeats a secret: %v", i, err)
			}
		}
	}
}

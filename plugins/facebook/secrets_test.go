package facebook_test

import (
	"net"
	"strings"
	"testing"

	"github.com/tact-hq/tact/plugins/facebook"
	"github.com/tact-hq/tact/plugins/facebook/facebooktest"
	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
)

// TestSecretsStayOutOfErrors: graph_url and dialog_url may carry a proxy's password and
// are often read from env:; tokens and the app secret (which the token endpoint takes in
// its query) never appear in an error, which reaches the account's details and the log.
func TestSecretsStayOutOfErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	const pass, key, token, secret = "proxy-pass-0123456789", "proxy-key-0123456789", "EAAGtoken-0123456789", "app-secret-0123456789"
	ctx := plugintest.Context(t)
	var errs []error
	for _, setting := range []string{"graph_url", "dialog_url"} {
		for _, value := range []string{"http://proxy:" + pass + "@" + dead, "ftp://proxy:" + pass + "@fb.example/?key=" + key, key} {
			n := facebook.New(quiet)
			err := n.Configure(ctx, map[string]string{setting: value, "access_token": token, "page_id": "1", "client_id": "1", "client_secret": secret})
			errs = append(errs, err)
			if err == nil { // a dead host: Configure stays up, the calls fail
				_, perr := n.Publish(ctx, sdk.Post{Text: "x"}, "k")
				_, xerr := n.Exchange(ctx, sdk.ExchangeRequest{Code: "c", CodeVerifier: "v", RedirectURI: "http://127.0.0.1/cb"})
				_, rerr := n.Refresh(ctx, sdk.Credentials{AccessToken: token, RefreshToken: token})
				errs = append(errs, perr, xerr, rerr)
			}
		}
	}
	// Facebook's own refusals: a wrong secret at the token endpoint, a revoked token.
	srv := facebooktest.New()
	defer srv.Close()
	n := facebook.New(quiet)
	if err := n.Configure(ctx, map[string]string{"graph_url": srv.URL, "dialog_url": srv.URL, "client_id": srv.AppID, "client_secret": secret,
		"access_token": srv.PageToken, "page_id": page}); err != nil {
		t.Fatal(err)
	}
	_, xerr := n.Exchange(ctx, sdk.ExchangeRequest{Code: "c", CodeVerifier: "v", RedirectURI: "http://127.0.0.1/cb"})
	srv.Invalidate(srv.PageToken, 458)
	_, perr := n.Publish(ctx, sdk.Post{Text: "x"}, "k")
	errs = append(errs, xerr, perr)
	for _, err := range errs {
		if err == nil {
			continue
		}
		for _, s := range []string{pass, key, token, secret, srv.PageToken} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("the error shows a secret: %v", err)
			}
		}
	}
}

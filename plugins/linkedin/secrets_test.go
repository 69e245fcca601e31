package linkedin_test

import (
	"net"
	"strings"
	"testing"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/linkedin"
	"github.com/tact-hq/tact/plugins/sdk"
)

// TestSecretsStayOutOfErrors: api_url and oauth_url may carry a proxy's password and are
// often read from env:; tokens and the client secret never appear in an error, which
// reaches the account's details and the log.
func TestSecretsStayOutOfErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	const pass, key, token, secret = "proxy-pass-0123456789", "proxy-key-0123456789", "AQtoken-0123456789", "client-secret-0123456789"
	ctx := plugintest.Context(t)
	for _, setting := range []string{"api_url", "oauth_url"} {
		for _, value := range []string{"http://proxy:" + pass + "@" + dead, "ftp://proxy:" + pass + "@li.example/?key=" + key, key} {
			n := linkedin.New(quiet)
			errs := []error{n.Configure(ctx, map[string]string{setting: value, "access_token": token, "client_id": "id", "client_secret": secret})}
			if errs[0] == nil { // a dead host: Configure stays up, the calls fail
				_, perr := n.Publish(ctx, sdk.Post{Text: "x"}, "k")
				_, rerr := n.Refresh(ctx, sdk.Credentials{RefreshToken: token})
				errs = append(errs, perr, rerr)
			}
			for _, err := range errs {
				if err == nil {
					continue
				}
				for _, s := range []string{pass, key, token, secret} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("%s=%s: the error shows a secret: %v", setting, value, err)
					}
				}
			}
		}
	}
}

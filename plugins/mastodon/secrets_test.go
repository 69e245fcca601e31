package mastodon_test

import (
	"net"
	"strings"
	"testing"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/mastodon"
)

// TestServerURLSecretsStayOutOfErrors: the server setting may carry a password (a proxy in
// front of the server) and is often read from env:. Errors, which reach the account's
// details and the log, never repeat it: not when the server cannot be reached (net/http's
// error prints the URL), nor when the value is not a URL at all.
func TestServerURLSecretsStayOutOfErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	const pass, key = "server-pass-0123456789", "server-key-0123456789"
	for _, server := range []string{"http://proxy:" + pass + "@" + dead, "ftp://proxy:" + pass + "@social.example/?key=" + key, key} {
		err := mastodon.New().Configure(plugintest.Context(t), map[string]string{"server": server, "token": "t0ken-0123456789"})
		if err == nil {
			t.Fatalf("Configure(%s) succeeded", server)
		}
		if strings.Contains(err.Error(), pass) || strings.Contains(err.Error(), key) {
			t.Errorf("Configure(%s): the error repeats a secret: %v", server, err)
		}
	}
}

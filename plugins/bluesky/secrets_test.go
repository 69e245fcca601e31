package bluesky_test

import (
	"net"
	"strings"
	"testing"

	"github.com/tact-hq/tact/plugins/bluesky"
	"github.com/tact-hq/tact/plugins/internal/plugintest"
)

// TestServiceURLSecretsStayOutOfErrors: the service setting may carry a password and is
// often read from env:; errors reach the account's details and the log.
func TestServiceURLSecretsStayOutOfErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	const pass, key = "service-pass-0123456789", "service-key-0123456789"
	for _, service := range []string{"http://proxy:" + pass + "@" + dead, "ftp://proxy:" + pass + "@pds.example/?key=" + key, key} {
		err := bluesky.New().Configure(plugintest.Context(t), map[string]string{"service": service, "identifier": "brand.example", "app_password": "app-pass-0123456789"})
		if err == nil {
			t.Fatalf("Configure(%s) succeeded", service)
		}
		if strings.Contains(err.Error(), pass) || strings.Contains(err.Error(), key) {
			t.Errorf("Configure(%s): the error repeats a secret: %v", service, err)
		}
	}
}

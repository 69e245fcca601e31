package webhook_test

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/webhook"
	"github.com/tact-hq/tact/plugins/webhook/webhooktest"
)

// The parts of a receiver URL that are secrets: errors reach the account's details, the
// log and the audit log, which viewers read.
const (
	urlPass = "url-pass-0123456789"
	urlPath = "url-path-0123456789"
	urlKey  = "url-key-0123456789"
)

func noSecrets(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	for _, s := range []string{urlPass, urlPath, urlKey} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("%s: the error shows %s: %v", what, s, err)
		}
	}
}

// TestMisconfiguredURLIsNotRepeated: a url setting that is not an http(s) URL (read from
// env:, where a wrong variable is easily named) is refused without its value.
func TestMisconfiguredURLIsNotRepeated(t *testing.T) {
	for _, u := range []string{
		"ftp://user:" + urlPass + "@hooks.example/" + urlPath + "?key=" + urlKey,
		"hooks.example/" + urlPath + "?key=" + urlKey,
		"http://a b/" + urlPath + "?key=" + urlKey,
		urlKey,
	} {
		err := webhook.New().Configure(plugintest.Context(t), map[string]string{"url": u, "secret": secret})
		noSecrets(t, "Configure("+u+")", err)
		if sdk.KindOf(err) != sdk.Permanent || !strings.Contains(err.Error(), `setting "url"`) {
			t.Errorf("Configure(%s): %v, want a permanent error naming the setting", u, err)
		}
	}
}

// TestTransportErrorsHideTheURL: net/http's errors repeat the URL (the password as ***,
// the path and query as they are).
func TestTransportErrorsHideTheURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	n := configured(t, "http://hook:"+urlPass+"@"+dead+"/in/"+urlPath+"?key="+urlKey)
	_, err = n.Publish(plugintest.Context(t), sdk.Post{Text: "hello"}, "k1")
	noSecrets(t, "Publish", err)
	if !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), dead) {
		t.Errorf("Publish: %v, want the host and what failed", err)
	}
	_, _, err = n.Lookup(plugintest.Context(t), "k2")
	noSecrets(t, "Lookup", err)
	noSecrets(t, "Delete", n.Delete(plugintest.Context(t), "r1"))
}

// TestReceiverAnswersAreRedacted: a receiver that repeats its key in a refusal, or
// redirects to an address with the key in it.
func TestReceiverAnswersAreRedacted(t *testing.T) {
	rcv := newReceiver(t)
	n := configured(t, rcv.URL+"/in/"+urlPath+"?key="+urlKey)
	rcv.Fail(webhooktest.Fault{Method: "POST", Status: 400, Body: `{"error":"unknown key ` + urlKey + ` for /in/` + urlPath + `"}`})
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "hello"}, "k1")
	noSecrets(t, "a refusal", err)
	if !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("the refusal lost the receiver's reason: %v", err)
	}
	for _, loc := range []string{"/moved/" + urlPath + "?key=" + urlKey, "https://hook:" + urlPass + "@elsewhere.example/in?key=" + urlKey} {
		rcv.Fail(webhooktest.Fault{Method: "POST", Status: http.StatusMovedPermanently, Header: http.Header{"Location": {loc}}})
		_, err = n.Publish(plugintest.Context(t), sdk.Post{Text: "hello"}, "k2")
		noSecrets(t, "a redirect to "+loc, err)
	}
}

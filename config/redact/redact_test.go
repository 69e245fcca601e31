package redact_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/config/redact"
)

func TestURL(t *testing.T) {
	for _, c := range []struct {
		name, raw, shown, secret string
	}{
		{"plain", "https://news.example/world/rss.xml", "https://news.example/world/rss.xml", "https://news.example/xxxxx"},
		{"root", "https://news.example/", "https://news.example/", "https://news.example/"},
		{"no path", "https://news.example", "https://news.example", "https://news.example"},
		{"port", "http://127.0.0.1:8080/feed", "http://127.0.0.1:8080/feed", "http://127.0.0.1:8080/xxxxx"},
		{"ipv6", "http://[::1]:8080/feed", "http://[::1]:8080/feed", "http://[::1]:8080/xxxxx"},
		{"password", "https://bob:hunter2-long@news.example/rss", "https://xxxxx:xxxxx@news.example/rss", "https://xxxxx:xxxxx@news.example/xxxxx"},
		{"token as user", "https://ghp_0123456789@git.example/feed", "https://xxxxx@git.example/feed", "https://xxxxx@git.example/xxxxx"},
		{"go's *** form", "https://bob:***@news.example/rss", "https://xxxxx:xxxxx@news.example/rss", "https://xxxxx:xxxxx@news.example/xxxxx"},
		{"query values", "https://news.example/rss?key=s3cr3t&lang=en&empty=", "https://news.example/rss?key=xxxxx&lang=xxxxx&empty=", "https://news.example/xxxxx?key=xxxxx&lang=xxxxx&empty="},
		{"bare query token", "https://news.example/rss?s3cr3t", "https://news.example/rss?xxxxx", "https://news.example/xxxxx?xxxxx"},
		{"encoded query", "https://news.example/rss?key=a%2Fb%20c", "https://news.example/rss?key=xxxxx", "https://news.example/xxxxx?key=xxxxx"},
		{"fragment", "https://news.example/rss#access_token=abc", "https://news.example/rss#xxxxx", "https://news.example/xxxxx#xxxxx"},
		{"slack path", "https://hooks.slack.example/services/T000/B000/XXXXXXXX", "https://hooks.slack.example/services/T000/B000/XXXXXXXX", "https://hooks.slack.example/xxxxx"},
		{"escaped path", "https://h.example/a%2Fb/c", "https://h.example/a%2Fb/c", "https://h.example/xxxxx"},
		{"file", "file:///var/lib/tact/feed.xml", "file:///var/lib/tact/feed.xml", "file:///xxxxx"},
		{"single slash", "http:/news/rss", "http:/news/rss", "http:/xxxxx"},
		{"opaque", "mailto:someone@example.com", "mailto:xxxxx", "mailto:xxxxx"},
		{"no scheme", "hooks.slack.example/services/T/B/SECRET", "xxxxx", "xxxxx"},
		{"malformed host", "http://a b.example/x?key=s3cr3t", "xxxxx", "xxxxx"},
		{"malformed escape", "https://h.example/%zz?key=s3cr3t", "xxxxx", "xxxxx"},
		{"control character", "https://h.example/\x7f?key=s3cr3t", "xxxxx", "xxxxx"},
		{"empty", "", "xxxxx", "xxxxx"},
		{"spaces around", "  https://news.example/rss?k=v \n", "https://news.example/rss?k=xxxxx", "https://news.example/xxxxx?k=xxxxx"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := redact.URL(c.raw); got != c.shown {
				t.Errorf("URL(%q) = %q, want %q", c.raw, got, c.shown)
			}
			if got := redact.SecretURL(c.raw); got != c.secret {
				t.Errorf("SecretURL(%q) = %q, want %q", c.raw, got, c.secret)
			}
		})
	}
}

func TestText(t *testing.T) {
	const hook = "https://hooks.example/services/T0123/B0123/tok3n-abcdef?key=qu3ry-s3cret"
	for _, c := range []struct {
		name, msg string
		secrets   []string
		want      string
	}{
		{"no URL", "feed poll failed: server answered 500", nil, "feed poll failed: server answered 500"},
		{"inside a message", `fetch failed: Get "https://bob:***@news.example/rss?key=s3cr3t": dial tcp 127.0.0.1:1: connect: connection refused`, nil,
			`fetch failed: Get "https://xxxxx:xxxxx@news.example/rss?key=xxxxx": dial tcp 127.0.0.1:1: connect: connection refused`},
		{"trailing punctuation", "see https://news.example/rss?key=s3cr3t.", nil, "see https://news.example/rss?key=xxxxx."},
		{"in parentheses", "(https://news.example/rss?key=s3cr3t)", nil, "(https://news.example/rss?key=xxxxx)"},
		{"JSON-escaped quotes", `{"error":"Get \"https://h.example/rss?key=s3cr3t\": EOF"}`, nil, `{"error":"Get \"https://h.example/rss?key=xxxxx\": EOF"}`},
		{"two URLs", "a https://x.example/?t=1 b http://y.example/p#f c", nil, "a https://x.example/?t=xxxxx b http://y.example/p#xxxxx c"},
		{"secret URL", "POST " + hook + " failed", []string{hook}, "POST https://hooks.example/xxxxx?key=xxxxx failed"},
		{"under a secret URL", "GET https://hooks.example/services/T0123/B0123/tok3n-abcdef?idempotency_key=k1", []string{hook},
			"GET https://hooks.example/xxxxx?idempotency_key=xxxxx"},
		{"another path on the secret host", "GET https://hooks.example/other", []string{hook}, "GET https://hooks.example/other"},
		{"secret parts outside a URL", `receiver said: unknown token "tok3n-abcdef", key qu3ry-s3cret`, []string{hook},
			`receiver said: unknown token "xxxxx", key xxxxx`},
		{"percent-encoded part", "echo tok3n%2Dabcdef? no: " + url.QueryEscape("qu3ry-s3cret/x"), []string{"https://h.example/?k=" + url.QueryEscape("qu3ry-s3cret/x")},
			"echo tok3n%2Dabcdef? no: xxxxx"},
		{"base64 basic auth", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("bob:hunter2-long")), []string{"https://bob:hunter2-long@h.example/"},
			"Authorization: Basic xxxxx"},
		{"short parts stay", "page 2 of en", []string{"https://h.example/?page=2&lang=en"}, "page 2 of en"},
		{"malformed URL in text", "bad http://h.example/%zz?key=s3cr3t here", nil, "bad xxxxx here"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := redact.Text(c.msg, c.secrets...); got != c.want {
				t.Errorf("Text(%q)\n got %q\nwant %q", c.msg, got, c.want)
			}
		})
	}
}

// TestErrorFromHTTPClient redacts what net/http really returns, not a string made up to
// look like it: its *url.Error prints the password as "***" and the query as it is.
func TestErrorFromHTTPClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	raw := "http://bob:pa55w0rd-long@" + dead + "/hook/s3cr3t-path-part?key=qu3ry-s3cret"
	req, _ := http.NewRequest(http.MethodGet, raw, nil)
	_, err = http.DefaultClient.Do(req)
	if err == nil {
		t.Fatal("a closed port answered")
	}
	if !strings.Contains(err.Error(), "***") || !strings.Contains(err.Error(), "qu3ry-s3cret") {
		t.Fatalf("net/http's error changed form; the test needs a new example: %v", err)
	}
	for _, c := range []struct {
		name    string
		err     error
		secrets []string
		want    string
	}{
		{"bare", err, nil, `Get "http://xxxxx:xxxxx@` + dead + `/hook/s3cr3t-path-part?key=xxxxx": dial tcp ` + dead + `: connect: connection refused`},
		{"secret URL", err, []string{raw}, `Get "http://xxxxx:xxxxx@` + dead + `/xxxxx?key=xxxxx": dial tcp ` + dead + `: connect: connection refused`},
		{"wrapped", fmt.Errorf("fetch failed: %w", err), []string{raw}, `fetch failed: Get "http://xxxxx:xxxxx@` + dead + `/xxxxx?key=xxxxx": dial tcp ` + dead + `: connect: connection refused`},
		{"joined", errors.Join(errors.New("first"), err), nil, "first\nGet \"http://xxxxx:xxxxx@" + dead + "/hook/s3cr3t-path-part?key=xxxxx\": dial tcp " + dead + ": connect: connection refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := redact.Error(c.err, c.secrets...)
			if got.Error() != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
			var ue *url.Error
			if errors.As(got, &ue) {
				t.Errorf("the redacted error still unwraps to the *url.Error %q", ue)
			}
			var op *net.OpError
			if !errors.As(got, &op) {
				t.Errorf("the redacted error lost its cause (a *net.OpError): %#v", got)
			}
		})
	}
}

func TestErrorKeepsTheCause(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x?key=qu3ry-s3cret", nil)
	_, err := srv.Client().Do(req)
	got := redact.Error(err)
	if !errors.Is(got, context.DeadlineExceeded) || strings.Contains(got.Error(), "qu3ry-s3cret") {
		t.Fatalf("got %v (deadline: %v)", got, errors.Is(got, context.DeadlineExceeded))
	}
	if redact.Error(nil) != nil {
		t.Fatal("Error(nil) is not nil")
	}
}

// TestErrorFromParse: url.Parse's error quotes the value, which does not parse, so the
// URL cannot be taken apart: it is hidden whole.
func TestErrorFromParse(t *testing.T) {
	for _, raw := range []string{"http://a b.example/x?key=qu3ry-s3cret", "https://h.example/%zz/s3cr3t-path", "hooks\x7f.example/s3cr3t-path"} {
		_, err := url.Parse(raw)
		if err == nil {
			t.Fatalf("%q parsed", raw)
		}
		got := redact.Error(fmt.Errorf("bad webhook URL: %w", err), raw).Error()
		if strings.Contains(got, "s3cr3t") || !strings.Contains(got, `"xxxxx"`) {
			t.Errorf("Error(%v) = %q", err, got)
		}
	}
	_, err := http.NewRequest(http.MethodGet, "http://h.example/%zz?key=qu3ry-s3cret", nil)
	if got := redact.Error(err).Error(); strings.Contains(got, "qu3ry-s3cret") {
		t.Errorf("NewRequest's error leaks: %q", got)
	}
}

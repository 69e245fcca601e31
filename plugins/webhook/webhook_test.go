package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/webhook"
	"github.com/tact-hq/tact/plugins/webhook/webhooktest"
)

const secret = "s3cret-shared-with-the-receiver"

func newReceiver(t *testing.T) *webhooktest.Receiver {
	r := webhooktest.New(secret)
	t.Cleanup(r.Close)
	return r
}

func configured(t *testing.T, url string, extra ...string) *webhook.Network {
	t.Helper()
	n := webhook.New()
	s := map[string]string{"url": url, "secret": secret}
	for i := 0; i+1 < len(extra); i += 2 {
		s[extra[i]] = extra[i+1]
	}
	if err := n.Configure(plugintest.Context(t), s); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPublishSendsASignedPayload(t *testing.T) {
	rcv := newReceiver(t)
	n := configured(t, rcv.URL)
	post := sdk.Post{Text: "Été 🌞", Link: "https://tact.example/x", Language: "fr",
		Media: []sdk.Media{plugintest.Attachment([]byte("\x89PNG\r\n\x1a\nchart"), "image/png", "a chart")}}
	r, err := n.Publish(plugintest.Context(t), post, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	ds := rcv.Deliveries()
	if len(ds) != 1 || rcv.Rejected() != 0 {
		t.Fatalf("deliveries %d, rejected %d", len(ds), rcv.Rejected())
	}
	d := ds[0]
	// The signature is HMAC-SHA256 of the exact body, computed here independently.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(d.Body)
	if got, want := d.Header.Get("X-Tact-Signature"), "sha256="+hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
	var body map[string]any
	if err := json.Unmarshal(d.Body, &body); err != nil {
		t.Fatal(err)
	}
	sentAt, _ := time.Parse(time.RFC3339, body["sent_at"].(string))
	ts, _ := strconv.ParseInt(d.Header.Get("X-Tact-Timestamp"), 10, 64)
	if body["idempotency_key"] != "key-1" || body["text"] != "Été 🌞" || body["link"] != "https://tact.example/x" ||
		body["language"] != "fr" || d.Header.Get("Idempotency-Key") != "key-1" || sentAt.Unix() != ts ||
		d.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("body %s, headers %v", d.Body, d.Header)
	}
	media := body["media"].([]any)[0].(map[string]any)
	if media["id"] != post.Media[0].ID || media["mime_type"] != "image/png" || media["alt"] != "a chart" ||
		media["size"] != float64(13) || media["data"] != base64.StdEncoding.EncodeToString(post.Media[0].Data) {
		t.Fatalf("media = %v; want the attachment's id, type, size and bytes", media)
	}
	if _, ok := media["path"]; ok {
		t.Fatalf("media carries a path: %v", media)
	}
	if r.RemoteID != d.ID || r.URL != rcv.URL+"/posts/"+d.ID {
		t.Fatalf("receipt = %+v", r)
	}
}

func TestValidateBoundsTheAttachments(t *testing.T) {
	n := configured(t, newReceiver(t).URL)
	small := sdk.Media{MimeType: "image/png", Size: 100}
	problems, err := n.Validate(plugintest.Context(t), sdk.Post{Text: "x", Media: []sdk.Media{small, {MimeType: "video/mp4", Size: 9 << 20}}})
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0].String(), "media[1]: the file is 9.0 MiB; a webhook takes at most 8.0 MiB") {
		t.Fatalf("Validate = %v, %v; want media[1] refused for its size", problems, err)
	}
	problems, _ = n.Validate(plugintest.Context(t), sdk.Post{Text: "x", Media: []sdk.Media{small, small, small, small, small}})
	if len(problems) != 1 || problems[0].Field != "media" {
		t.Fatalf("Validate of 5 attachments = %v; want one media problem", problems)
	}
}

func TestRepeatedKeyIsOnePost(t *testing.T) {
	rcv := newReceiver(t)
	post := sdk.Post{Text: "once"}
	first, err := configured(t, rcv.URL).Publish(plugintest.Context(t), post, "k")
	if err != nil {
		t.Fatal(err)
	}
	// The receiver dropped the answer to this one: the plugin reports a retryable error.
	n := configured(t, rcv.URL)
	rcv.DropAfterAccept(1)
	_, err = n.Publish(plugintest.Context(t), sdk.Post{Text: "second"}, "k2")
	plugintest.WantKind(t, err, sdk.Retryable, "")

	// A new process retries both: the receiver dedupes, nothing is posted twice.
	again := configured(t, rcv.URL)
	r, err := again.Publish(plugintest.Context(t), post, "k")
	if err != nil || r.RemoteID != first.RemoteID {
		t.Fatalf("repeat = %+v, %v; want %s", r, err, first.RemoteID)
	}
	if _, err := again.Publish(plugintest.Context(t), sdk.Post{Text: "second"}, "k2"); err != nil {
		t.Fatal(err)
	}
	if len(rcv.Deliveries()) != 2 {
		t.Fatalf("%d deliveries, want 2", len(rcv.Deliveries()))
	}
}

func TestLookup(t *testing.T) {
	rcv := newReceiver(t)
	n := configured(t, rcv.URL)
	rcv.DropAfterAccept(1)
	_, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "lost answer"}, "lost")
	plugintest.WantKind(t, err, sdk.Retryable, "")

	restarted := configured(t, rcv.URL)
	r, found, err := restarted.Lookup(plugintest.Context(t), "lost")
	if err != nil || !found || r.RemoteID != rcv.Deliveries()[0].ID {
		t.Fatalf("Lookup(lost) = %+v, %v, %v", r, found, err)
	}
	if _, found, err := restarted.Lookup(plugintest.Context(t), "never"); err != nil || found {
		t.Fatalf("Lookup(never) = %v, %v; want not found", found, err)
	}
	if rcv.Rejected() != 0 {
		t.Fatal("the receiver rejected a lookup signature")
	}

	rcv.Lookup = false // a receiver that only takes POSTs: its 404 page says nothing
	_, found, err = restarted.Lookup(plugintest.Context(t), "never")
	if err == nil || found || !strings.Contains(err.Error(), "cannot tell") {
		t.Fatalf("Lookup without receiver support = %v, %v; want cannot tell", found, err)
	}
}

func TestLookupSignatureCoversTheQuery(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"found": false}`))
	}))
	t.Cleanup(srv.Close)
	n := configured(t, srv.URL+"/hook?tenant=a b")
	if _, found, err := n.Lookup(plugintest.Context(t), "k&=x"); err != nil || found {
		t.Fatalf("Lookup = %v, %v", found, err)
	}
	if got.URL.Query().Get("idempotency_key") != "k&=x" || got.URL.Query().Get("tenant") != "a b" {
		t.Fatalf("query = %q", got.URL.RawQuery)
	}
	if !webhook.Verify([]byte(secret), []byte(got.URL.RawQuery), got.Header.Get("X-Tact-Signature")) {
		t.Fatalf("signature does not cover raw query %q", got.URL.RawQuery)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	rcv := newReceiver(t)
	n := configured(t, rcv.URL, "timeout", "200ms")
	post := sdk.Post{Text: "x"}
	rcv.Fail(webhooktest.Fault{Method: "POST", Status: 429, Header: http.Header{"Retry-After": {"30"}}, Body: "slow down"})
	if e := plugintest.WantKind(t, publishErr(n, t, post), sdk.RateLimited, "slow down"); e.RetryAfter != 30*time.Second {
		t.Fatalf("RetryAfter = %s", e.RetryAfter)
	}
	rcv.Fail(webhooktest.Fault{Method: "POST", Status: 403, Body: "forbidden"})
	plugintest.WantKind(t, publishErr(n, t, post), sdk.Auth, "403")
	rcv.Fail(webhooktest.Fault{Method: "POST", Status: 422, Body: `{"error":"text too long for the CMS"}`})
	plugintest.WantKind(t, publishErr(n, t, post), sdk.Permanent, "text too long for the CMS")
	rcv.Fail(webhooktest.Fault{Method: "POST", Status: 503, Body: "down"})
	plugintest.WantKind(t, publishErr(n, t, post), sdk.Retryable, "503")
	rcv.Fail(webhooktest.Fault{Method: "POST", Stall: true})
	plugintest.WantKind(t, publishErr(n, t, post), sdk.Retryable, "deadline exceeded")
	rcv.Fail(webhooktest.Fault{Method: "POST", Status: 301, Header: http.Header{"Location": {"https://elsewhere.example/hook"}}})
	plugintest.WantKind(t, publishErr(n, t, post), sdk.Permanent, "set url to the final address")
	if len(rcv.Deliveries()) != 0 {
		t.Fatal("a failed publish was delivered")
	}

	wrong := webhook.New()
	if err := wrong.Configure(plugintest.Context(t), map[string]string{"url": rcv.URL, "secret": "not the secret"}); err != nil {
		t.Fatal(err)
	}
	_, err := wrong.Publish(plugintest.Context(t), post, "k")
	plugintest.WantKind(t, err, sdk.Auth, "bad signature")
	if rcv.Rejected() != 1 || len(rcv.Deliveries()) != 0 {
		t.Fatalf("rejected %d, delivered %d", rcv.Rejected(), len(rcv.Deliveries()))
	}
}

func publishErr(n *webhook.Network, t *testing.T, p sdk.Post) error {
	_, err := n.Publish(plugintest.Context(t), p, "k-"+strconv.Itoa(int(time.Now().UnixNano())))
	return err
}

func TestDelete(t *testing.T) {
	rcv := newReceiver(t)
	n := configured(t, rcv.URL)
	r, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "bye"}, "d")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Delete(plugintest.Context(t), r.RemoteID); err != nil {
		t.Fatal(err)
	}
	if len(rcv.Deliveries()) != 0 {
		t.Fatal("still there")
	}
	if err := n.Delete(plugintest.Context(t), r.RemoteID); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	rcv.Fail(webhooktest.Fault{Method: "DELETE", Status: 405})
	plugintest.WantKind(t, n.Delete(plugintest.Context(t), r.RemoteID), sdk.Permanent, "does not implement delete")
}

func TestConfigure(t *testing.T) {
	n := webhook.New()
	for settings, want := range map[*map[string]string]string{
		{"url": "ftp://x", "secret": "s"}:                           `"url"`,
		{"url": "https://x.example"}:                                `"secret" is empty`,
		{"url": "https://x.example", "secret": "s", "timeout": "0"}: `"timeout"`,
		{"url": "https://x.example", "secret": "s", "token": "t"}:   `unknown setting "token"`,
	} {
		plugintest.WantKind(t, n.Configure(plugintest.Context(t), *settings), sdk.Permanent, want)
	}
	if _, err := n.Publish(plugintest.Context(t), sdk.Post{Text: "x"}, "k"); err == nil {
		t.Fatal("Publish without configuration succeeded")
	}
}

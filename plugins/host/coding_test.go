package host

import (
	"os"
	"strings"
	"testing"

	"github.com/tact-hq/tact/plugins/sdk"
)

// TestTextThatIsNotUTF8IsPermanent: protobuf cannot carry a string that is not UTF-8.
// Through a real plugin process, such a Validate is a permanent error (the API answered
// 503 "try again" to an untyped one, and would forever), the process is not restarted,
// and such a Publish is refused before it is sent: permanent and known, never
// outcome-unknown, nothing in the outbox.
func TestTextThatIsNotUTF8IsPermanent(t *testing.T) {
	acct, path := outboxAccount(t, "acct", "outbox")
	m := newManager(t, Config{}, acct)
	net, _ := m.Network("acct")
	ctx := ctxT(t)
	if err := m.Start(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	pid := m.accounts["acct"].pid()

	_, err := net.Validate(ctx, sdk.Post{Text: "Caf\xe9"})
	if sdk.KindOf(err) != sdk.Permanent || !strings.Contains(err.Error(), "UTF-8") || !strings.Contains(err.Error(), `"acct"`) {
		t.Fatalf("Validate of a Latin-1 text = %v (kind %s), want a permanent error naming the account and UTF-8", err, sdk.KindOf(err))
	}
	_, err = net.Publish(ctx, sdk.Post{Text: "ok", Media: []sdk.Media{{ID: "x", Alt: "cr\xe8me"}}}, "key-latin1")
	if sdk.KindOf(err) != sdk.Permanent || OutcomeUnknown(err) || !strings.Contains(err.Error(), "media 1 alt text") {
		t.Fatalf("Publish of a Latin-1 alt text = %v (kind %s, unknown %v), want permanent and known, naming the field", err, sdk.KindOf(err), OutcomeUnknown(err))
	}
	if got := m.accounts["acct"].pid(); got != pid {
		t.Fatalf("the plugin process was restarted (pid %d, was %d): it was never at fault", got, pid)
	}
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Fatalf("the outbox got %q", b)
	}
	if _, err := net.Validate(ctx, sdk.Post{Text: "Café"}); err != nil {
		t.Fatalf("the same text in UTF-8: %v", err)
	}
}

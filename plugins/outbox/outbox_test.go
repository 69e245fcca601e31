package outbox

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
)

var ctx = context.Background()

func clock() func() time.Time {
	t := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func open(t *testing.T, path string, extra ...string) *Outbox {
	t.Helper()
	o := New(clock())
	settings := map[string]string{"path": path}
	for i := 0; i+1 < len(extra); i += 2 {
		settings[extra[i]] = extra[i+1]
	}
	if err := o.Configure(ctx, settings); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func fileLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestPublishWritesOneLineWithTheFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	o := open(t, path)
	img := plugintest.Attachment([]byte("\x89PNG\r\n\x1a\nimage"), "image/png", "a logo")
	r, err := o.Publish(ctx, sdk.Post{Text: "Hello", Link: "https://l", Media: []sdk.Media{img}}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	lines := fileLines(t, path)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	l := lines[0]
	for _, k := range []string{"idempotency_key", "text", "link", "media", "published_at", "remote_id"} {
		if _, ok := l[k]; !ok {
			t.Errorf("line lacks %s: %v", k, l)
		}
	}
	if l["remote_id"] != r.RemoteID || l["text"] != "Hello" || l["published_at"] != "2026-11-22T09:00:01Z" {
		t.Errorf("line = %v, receipt = %+v", l, r)
	}
	m := l["media"].([]any)[0].(map[string]any)
	if m["id"] != img.ID || m["sha256"] != img.ID || m["mime_type"] != "image/png" || m["size"] != float64(13) || m["alt"] != "a logo" {
		t.Errorf("media line = %v; want the attachment with the hash of the bytes received", m)
	}
	// An attachment without its bytes is refused, not recorded as published.
	_, err = o.Publish(ctx, sdk.Post{Text: "Hello", Media: []sdk.Media{{ID: img.ID, MimeType: "image/png", Size: 13}}}, "k2")
	plugintest.WantKind(t, err, sdk.Permanent, "without its bytes")
}

// Keys are remembered across a restart (a new process reads the file) and across
// processes sharing the file: a repeated key writes nothing.
func TestRepeatedKeyWritesNothingAcrossInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	a := open(t, path)
	first, err := a.Publish(ctx, sdk.Post{Text: "one"}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	b := open(t, path) // another process, or the restarted plugin
	got, err := b.Publish(ctx, sdk.Post{Text: "one, again"}, "k1")
	if err != nil || got != first {
		t.Fatalf("second instance Publish = %+v, %v; want the first receipt %+v", got, err, first)
	}
	// a learns about what b appends, too.
	if _, err := b.Publish(ctx, sdk.Post{Text: "two"}, "k2"); err != nil {
		t.Fatal(err)
	}
	if r, found, err := a.Lookup(ctx, "k2"); err != nil || !found || r.RemoteID == "" {
		t.Fatalf("Lookup(k2) on the other instance = %+v %v %v", r, found, err)
	}
	if n := len(fileLines(t, path)); n != 2 {
		t.Fatalf("%d lines, want 2", n)
	}
}

// A line cut short by a crash mid-write does not swallow the next post.
func TestTornLastLineIsSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	if err := os.WriteFile(path, []byte(`{"idempotency_key":"old","text":"x","remote_id":"outbox-1"}`+"\n"+`{"idempotency_key":"torn","te`), 0o600); err != nil {
		t.Fatal(err)
	}
	o := open(t, path)
	if _, found, _ := o.Lookup(ctx, "torn"); found {
		t.Fatal("a torn line counted as a publish")
	}
	if _, found, _ := o.Lookup(ctx, "old"); !found {
		t.Fatal("a complete line before the torn one was lost")
	}
	if _, err := o.Publish(ctx, sdk.Post{Text: "after the crash"}, "new"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	last := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var rec map[string]any
	if err := json.Unmarshal([]byte(last[len(last)-1]), &rec); err != nil || rec["idempotency_key"] != "new" {
		t.Fatalf("the new post is not a line of its own: %q (%v)", last[len(last)-1], err)
	}
	if _, found, _ := open(t, path).Lookup(ctx, "new"); !found {
		t.Fatal("the post after the torn line is not found on reopening")
	}
}

func TestDelete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	o := open(t, path)
	r, _ := o.Publish(ctx, sdk.Post{Text: "bye"}, "k")
	if err := o.Delete(ctx, r.RemoteID); err != nil {
		t.Fatal(err)
	}
	if err := o.Delete(ctx, r.RemoteID); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	lines := fileLines(t, path)
	if len(lines) != 2 || lines[1]["deleted"] != r.RemoteID {
		t.Fatalf("lines = %v, want the post and one deletion", lines)
	}
	if err := o.Delete(ctx, "outbox-nosuch"); sdk.KindOf(err) != sdk.Permanent {
		t.Fatalf("Delete of an unknown id = %v, want permanent", err)
	}
	// A deleted post was still published: Lookup reports it.
	if _, found, _ := open(t, path).Lookup(ctx, "k"); !found {
		t.Fatal("Lookup lost a deleted post")
	}
}

func TestValidateAndMaxLength(t *testing.T) {
	dir := t.TempDir()
	o := open(t, filepath.Join(dir, "a.jsonl"))
	if ps, _ := o.Validate(ctx, sdk.Post{Text: strings.Repeat("é", DefaultMaxLength)}); len(ps) != 0 {
		t.Fatalf("500 code points refused by default: %v", ps)
	}
	if ps, _ := o.Validate(ctx, sdk.Post{Text: strings.Repeat("é", DefaultMaxLength+1)}); len(ps) != 1 || ps[0].Field != "text" {
		t.Fatalf("501 code points: %v", ps)
	}
	short := open(t, filepath.Join(dir, "b.jsonl"), "max_length", "5")
	if d, _ := short.Describe(ctx); d.MaxLength != 5 {
		t.Fatalf("Describe after max_length=5 says %d", d.MaxLength)
	}
	if _, err := short.Publish(ctx, sdk.Post{Text: "toolong"}, "k"); sdk.KindOf(err) != sdk.Permanent {
		t.Fatalf("Publish over max_length = %v, want permanent", err)
	}
	if ps, _ := short.Validate(ctx, sdk.Post{Text: " "}); len(ps) != 1 {
		t.Fatalf("blank text: %v", ps)
	}
}

func TestBadSettingsChangeNothing(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		settings map[string]string
		want     string
	}{
		{map[string]string{}, "absolute file path"},
		{map[string]string{"path": "relative.jsonl"}, "absolute file path"},
		{map[string]string{"path": filepath.Join(dir, "x"), "max_len": "3"}, `unknown setting(s) max_len`},
		{map[string]string{"path": filepath.Join(dir, "x"), "max_length": "-1"}, "positive whole number"},
		{map[string]string{"path": filepath.Join(dir, "missing", "x")}, "directory must exist"},
	} {
		err := New(nil).Configure(ctx, tc.settings)
		if sdk.KindOf(err) != sdk.Permanent || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Configure(%v) = %v, want a permanent error mentioning %q", tc.settings, err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("bad settings created files: %v", entries)
	}
	if _, err := New(nil).Publish(ctx, sdk.Post{Text: "x"}, "k"); sdk.KindOf(err) != sdk.Permanent {
		t.Errorf("Publish before Configure = %v", err)
	}
}

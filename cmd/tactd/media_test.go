package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// noisePNG is a PNG of random pixels: it does not compress, so w×h×4 bytes or more.
func noisePNG(t *testing.T, w, h int, seed uint64) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	img.Set(0, 0, color.NRGBA{1, 2, 3, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The hole this closes: a marketer named a local file or an internal URL as a post's
// media, approved it, and the daemon read or fetched it and published its bytes. Now the
// daemon refuses both, asks nothing of the disk or the network for them, and an uploaded
// image reaches the network plugin (a real process, over gRPC) as the exact bytes, larger
// than gRPC's 4 MiB default message.
func TestMediaReachTheNetworkOnlyAsUploadedBytes(t *testing.T) {
	dir := t.TempDir()
	var internalHits atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		w.Write(noisePNG(t, 2, 2, 9))
	}))
	defer internal.Close()
	private := filepath.Join(dir, "private.png")
	secretBytes := noisePNG(t, 8, 8, 1)
	if err := os.WriteFile(private, secretBytes, 0o600); err != nil {
		t.Fatal(err)
	}

	d := startDaemon(t, dir, outboxConfig)
	d.ctl(t, "campaign", "create", "spring", "--account", "brand", "--topic", "gardening")
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, m := range []string{private, filepath.Join(dir, "missing.png"), internal.URL + "/internal/admin.png", "file://" + private} {
		var out map[string]any
		code := d.api(t, "POST", "/api/v1/posts", map[string]any{"campaign": "spring", "text": "x", "at": at, "media": []string{m}}, &out)
		if code != 400 || out["field"] != "media[0]" || !strings.Contains(fmt.Sprint(out["error"]), "not an attachment id") {
			t.Fatalf("media %q: %d %v; want 400 about media[0]", m, code, out)
		}
	}
	var out map[string]any
	if code := d.api(t, "POST", "/api/v1/media", map[string]any{"url": internal.URL + "/internal/admin.png"}, &out); code != 400 ||
		!strings.Contains(fmt.Sprint(out["error"]), "not a public internet address") {
		t.Fatalf("fetching an internal URL: %d %v", code, out)
	}
	if n := internalHits.Load(); n != 0 {
		t.Fatalf("the internal server was asked %d times", n)
	}

	// The marketer's own file, uploaded by tactctl (which reads it as that person).
	bigPath := filepath.Join(dir, "poster.png")
	big := noisePNG(t, 1100, 1100, 2) // about 4.8 MB
	if len(big) <= 4<<20 {
		t.Fatalf("the test image is %d bytes; it must exceed gRPC's 4 MiB default", len(big))
	}
	if err := os.WriteFile(bigPath, big, 0o600); err != nil {
		t.Fatal(err)
	}
	uploaded := strings.Fields(d.ctl(t, "media", "upload", bigPath))
	if len(uploaded) < 2 || uploaded[0] != hexSum(big) || uploaded[1] != "image/png," {
		t.Fatalf("tactctl media upload printed %q", uploaded)
	}
	due := time.Now().Add(6 * time.Second)
	created := d.ctl(t, "--json", "post", "create", "--campaign", "spring", "--at", due.UTC().Format(time.RFC3339Nano),
		"--text", "Spring poster", "--media", bigPath)
	var p struct {
		ID    int64    `json:"id"`
		Media []string `json:"media"`
	}
	if err := json.Unmarshal([]byte(created), &p); err != nil || len(p.Media) != 1 || p.Media[0] != hexSum(big) {
		t.Fatalf("post create printed %s (%v)", created, err)
	}
	d.ctl(t, "approve", fmt.Sprint(p.ID))
	eventually(t, 60*time.Second, "the post with the poster to be published", func() bool {
		return d.post(t, p.ID).State == "published"
	})
	lines := outboxLines(t, filepath.Join(dir, "outbox.jsonl"))
	if len(lines) != 1 {
		t.Fatalf("outbox has %d lines, want 1: %v", len(lines), lines)
	}
	media, _ := lines[0]["media"].([]any)
	if len(media) != 1 {
		t.Fatalf("published media = %v", lines[0]["media"])
	}
	m := media[0].(map[string]any)
	if m["sha256"] != hexSum(big) || m["size"] != float64(len(big)) || m["mime_type"] != "image/png" {
		t.Fatalf("the network received %v; want the %d bytes uploaded (sha256 %s)", m, len(big), hexSum(big))
	}
	if raw, _ := os.ReadFile(filepath.Join(dir, "outbox.jsonl")); bytes.Contains(raw, []byte(hexSum(secretBytes))) {
		t.Fatal("the private file's bytes were published")
	}
	fi, err := os.Stat(filepath.Join(d.dataDir, "media", hexSum(big)))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stored attachment: %v (mode %v); want a 0600 file named by its hash", err, fi.Mode())
	}
}

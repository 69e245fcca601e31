package api_test

import (
	"bytes"
	"mime/multipart"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/media"
	"github.com/tact-hq/tact/daemon/queue"
)

// FuzzMediaUpload sends arbitrary bytes to POST /api/v1/media as a raw body, as a
// multipart form's file part and as a JSON body, through the real handler and store. The
// daemon must never fail (5xx), must accept only what it can publish, and must serve back
// exactly the bytes it accepted.
func FuzzMediaUpload(f *testing.F) {
	f.Add(pngBytes(f, 2, 2), uint8(0))
	f.Add(pngBytes(f, 1, 1), uint8(1))
	f.Add([]byte(`{"url":"http://127.0.0.1:1/x.png"}`), uint8(2))
	f.Add([]byte(`{"url":"file:///etc/passwd"}`), uint8(2))
	f.Add([]byte("<svg onload=alert(1)>"), uint8(0))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00"), uint8(1))
	f.Add([]byte("--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"), uint8(3))
	dir := f.TempDir()
	e := newEnv(f, func(o *api.Options, _ *clock.Fake) {
		st, err := media.Open(filepath.Join(dir, "media"), 64<<10)
		if err != nil {
			f.Fatal(err)
		}
		// Fuzzed URLs name any address: refuse them all, and resolve no name, so that
		// nothing but loopback is ever contacted.
		o.Media, o.MediaFetcher = st, media.NewFetcher(st, media.FetchOptions{Resolver: offline, Allow: func(netip.Addr) bool { return false }})
	})
	f.Fuzz(func(t *testing.T, data []byte, how uint8) {
		e.t = t
		var r response
		switch how % 4 {
		case 0:
			r = e.do(queue.RoleMarketer, "POST", "/api/v1/media", data, "Content-Type", "application/octet-stream")
		case 1:
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			part, _ := w.CreateFormFile("file", "x")
			part.Write(data)
			w.Close()
			r = e.do(queue.RoleMarketer, "POST", "/api/v1/media", buf.Bytes(), "Content-Type", w.FormDataContentType())
		case 2:
			r = e.do(queue.RoleMarketer, "POST", "/api/v1/media", data, "Content-Type", "application/json")
		case 3:
			r = e.do(queue.RoleMarketer, "POST", "/api/v1/media", data, "Content-Type", "multipart/form-data; boundary=x")
		}
		switch r.status {
		case 200, 201:
			id := r.str("id")
			got := e.do(queue.RoleViewer, "GET", "/api/v1/media/"+id, nil)
			if got.status != 200 || got.header.Get("Content-Type") != r.str("type") {
				t.Fatalf("stored %s but GET answered %d %q", id, got.status, got.header.Get("Content-Type"))
			}
			if how%4 == 0 && !bytes.Equal(got.raw, data) {
				t.Fatalf("stored %d bytes, served %d different ones", len(data), len(got.raw))
			}
		case 400, 413, 415:
			if r.str("error") == "" {
				t.Fatalf("%d without an error message: %s", r.status, r.raw)
			}
		default:
			t.Fatalf("answered %d: %s", r.status, r.raw)
		}
	})
}

package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/media"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/sdk"
)

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// seenValidator records the posts the plugins were asked to validate.
type seenValidator struct {
	mu    sync.Mutex
	posts []sdk.Post
}

func (v *seenValidator) Validate(_ context.Context, _ []string, p sdk.Post) ([]string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.posts = append(v.posts, p)
	return nil, nil
}

func (v *seenValidator) last() sdk.Post {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.posts[len(v.posts)-1]
}

// offline is a resolver that sends no DNS query (tests reach only loopback): names other
// than /etc/hosts' do not resolve.
var offline = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("no DNS in tests")
}}

// withMedia gives the API a real media store (max bytes each) and the daemon's fetcher,
// which refuses every address a test may reach.
func withMedia(t *testing.T, max int64, v api.Validator) func(*api.Options, *clock.Fake) {
	return func(o *api.Options, _ *clock.Fake) {
		st, err := media.Open(filepath.Join(t.TempDir(), "media"), max)
		if err != nil {
			t.Fatal(err)
		}
		o.Media = st
		o.MediaFetcher = media.NewFetcher(st, media.FetchOptions{Resolver: offline})
		if v != nil {
			o.Validator = v
		}
	}
}

func multipartBody(t *testing.T, field string, data []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("note", "ignored")
	part, err := w.CreateFormFile(field, "../../etc/holiday.png") // the name is not used
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func TestMediaUploadAndServe(t *testing.T) {
	e := newEnv(t, withMedia(t, 0, nil))
	img := pngBytes(t, 6, 4)
	r := e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/media", img, "Content-Type", "text/html"))
	id := r.str("id")
	if !media.ValidID(id) || r.str("type") != "image/png" || r.body["size"] != float64(len(img)) ||
		r.body["width"] != float64(6) || r.body["height"] != float64(4) || r.str("url") != "/api/v1/media/"+id ||
		r.header.Get("Location") != "/api/v1/media/"+id {
		t.Fatalf("upload answered %s (Location %q)", r.raw, r.header.Get("Location"))
	}
	// The same bytes again, as a browser's form: the same attachment, 200.
	ct, body := multipartBody(t, "file", img)
	if again := e.must(200, e.do(queue.RoleMarketer, "POST", "/api/v1/media", body, "Content-Type", ct)); again.str("id") != id {
		t.Fatalf("the same bytes got id %s, want %s", again.str("id"), id)
	}

	got := e.do(queue.RoleViewer, "GET", "/api/v1/media/"+id, nil)
	if got.status != 200 || !bytes.Equal(got.raw, img) || got.header.Get("Content-Type") != "image/png" ||
		got.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(got.header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("GET = %d, %d bytes, headers %v", got.status, len(got.raw), got.header)
	}
	e.must(401, e.do("", "GET", "/api/v1/media/"+id, nil))
	e.must(403, e.do(queue.RoleViewer, "POST", "/api/v1/media", img))
	e.must(400, e.do(queue.RoleViewer, "GET", "/api/v1/media/..%2F..%2Ftact.db", nil))
	e.must(404, e.do(queue.RoleViewer, "GET", "/api/v1/media/"+strings.Repeat("0", 64), nil))
}

func TestMediaUploadRefusesAndStoresNothing(t *testing.T) {
	inside := atomic.Int64{}
	canary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inside.Add(1)
		w.Write(pngBytes(t, 1, 1))
	}))
	defer canary.Close()
	dir := t.TempDir()
	e := newEnv(t, func(o *api.Options, _ *clock.Fake) {
		st, err := media.Open(dir, 2048)
		if err != nil {
			t.Fatal(err)
		}
		o.Media, o.MediaFetcher = st, media.NewFetcher(st, media.FetchOptions{Resolver: offline})
	})
	ctFile, noFile := multipartBody(t, "picture", pngBytes(t, 1, 1))
	for _, c := range []struct {
		name   string
		body   any
		hdr    []string
		status int
		says   string
	}{
		{"svg", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, []string{"Content-Type", "image/svg+xml"}, 415, "not an image or video tact publishes"},
		{"html", "<html><script>x</script></html>", nil, 415, "text/html"},
		{"too large", append(pngBytes(t, 1, 1), make([]byte, 4096)...), nil, 413, "larger than 2 KiB"},
		{"empty", "", []string{"Content-Type", "image/png"}, 400, "empty"},
		{"form without a file part", noFile, []string{"Content-Type", ctFile}, 400, `no part named "file"`},
		{"url to loopback", map[string]string{"url": canary.URL + "/logo.png"}, []string{"Content-Type", "application/json"}, 400, "not a public internet address"},
		{"url to metadata", map[string]string{"url": "http://169.254.169.254/latest/meta-data/iam"}, []string{"Content-Type", "application/json"}, 400, "not a public internet address"},
		{"file url", map[string]string{"url": "file:///etc/passwd"}, []string{"Content-Type", "application/json"}, 400, "only http and https"},
		{"json without url", map[string]string{}, []string{"Content-Type", "application/json"}, 400, "url is required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(queue.RoleMarketer, "POST", "/api/v1/media", c.body, c.hdr...)
			if r.status != c.status || !strings.Contains(r.str("error"), c.says) {
				t.Fatalf("answered %d %s; want %d saying %q", r.status, r.raw, c.status, c.says)
			}
		})
	}
	if n := inside.Load(); n != 0 {
		t.Fatalf("the loopback server was fetched %d times", n)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("refused uploads left %d files in the media directory", len(entries))
	}
}

// A post names its media by upload id only: a path or URL is refused with the same answer
// whether the file exists or not, so the API tells nothing of the daemon's disk, and the
// plugins are asked about the stored attachment (type and size, no bytes).
func TestPostMediaAreUploadIDs(t *testing.T) {
	v := &seenValidator{}
	e := newEnv(t, withMedia(t, 0, v))
	e.campaign("summer", nil)
	private := filepath.Join(t.TempDir(), "private.png")
	if err := os.WriteFile(private, pngBytes(t, 2, 2), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(filepath.Dir(private), "missing.png")
	create := func(mediaList ...string) response {
		return e.do(queue.RoleMarketer, "POST", "/api/v1/posts", map[string]any{"campaign": "summer", "text": "hello", "at": "+1h", "media": mediaList})
	}
	exists, gone := create(private), create(missing)
	if exists.status != 400 || exists.str("field") != "media[0]" || !strings.Contains(exists.str("error"), "not an attachment id") {
		t.Fatalf("a path to an existing file: %d %s", exists.status, exists.raw)
	}
	if strings.ReplaceAll(exists.str("error"), private, "X") != strings.ReplaceAll(gone.str("error"), missing, "X") || gone.status != exists.status {
		t.Fatalf("the answers differ for an existing and a missing path:\n%s\n%s", exists.raw, gone.raw)
	}
	for _, bad := range []string{"http://127.0.0.1:9/admin.png", "file:///etc/passwd", "../tact.db", strings.Repeat("f", 64)} {
		if r := create(bad); r.status != 400 || r.str("field") != "media[0]" {
			t.Fatalf("media %q: %d %s; want 400 about media[0]", bad, r.status, r.raw)
		}
	}
	img := pngBytes(t, 3, 2)
	id := e.must(201, e.do(queue.RoleMarketer, "POST", "/api/v1/media", img)).str("id")
	if r := create(id, id); r.status != 400 || r.str("field") != "media[1]" {
		t.Fatalf("the same id twice: %d %s", r.status, r.raw)
	}
	if n := len(v.posts); n != 0 {
		t.Fatalf("the plugins were asked about %d refused posts", n)
	}
	r := e.must(201, create(id))
	got := v.last().Media
	if len(got) != 1 || got[0].ID != id || got[0].MimeType != "image/png" || got[0].Size != int64(len(img)) || got[0].Width != 3 || len(got[0].Data) != 0 {
		t.Fatalf("the plugins validated media %+v", got)
	}
	if m, _ := r.body["media"].([]any); len(m) != 1 || m[0] != id {
		t.Fatalf("the post's media = %v", r.body["media"])
	}
	// Editing to a path is refused, and changes nothing.
	postID := int64(r.body["id"].(float64))
	path := fmt.Sprintf("/api/v1/posts/%d", postID)
	if p := e.do(queue.RoleMarketer, "PATCH", path, map[string]any{"media": []string{private}}); p.status != 400 || p.str("field") != "media[0]" {
		t.Fatalf("PATCH to a path: %d %s", p.status, p.raw)
	}
	if m, _ := e.must(200, e.do(queue.RoleViewer, "GET", path, nil)).body["media"].([]any); len(m) != 1 || m[0] != id {
		t.Fatalf("after the refused edit the media are %v", m)
	}
}

func TestPostsWithMediaNeedMediaStorage(t *testing.T) {
	e := newEnv(t)
	e.campaign("summer", nil)
	r := e.do(queue.RoleMarketer, "POST", "/api/v1/posts", map[string]any{"campaign": "summer", "text": "x", "at": "+1h", "media": []string{strings.Repeat("a", 64)}})
	if r.status != 503 || !strings.Contains(r.str("error"), "media storage") {
		t.Fatalf("%d %s; want 503 naming media storage", r.status, r.raw)
	}
	e.must(503, e.do(queue.RoleMarketer, "POST", "/api/v1/media", pngBytes(t, 1, 1)))
}

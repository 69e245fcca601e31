package sdk

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMediaType(t *testing.T) {
	for _, tc := range []struct {
		m    Media
		want string
	}{
		{Media{Path: "/tmp/a.png"}, "image/png"},
		{Media{Path: "/tmp/a.JPG"}, "image/jpeg"},
		{Media{URL: "https://cdn.example/x/photo.webp?size=large"}, "image/webp"},
		{Media{Path: "/tmp/a.png", MimeType: "image/gif; charset=binary"}, "image/gif"},
		{Media{URL: "https://cdn.example/x/photo"}, ""},
		{Media{}, ""},
	} {
		if got := MediaType(tc.m); got != tc.want {
			t.Errorf("MediaType(%+v) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func wantError(t *testing.T, err error, kind ErrorKind, says string) {
	t.Helper()
	if KindOf(err) != kind || !strings.Contains(err.Error(), says) {
		t.Fatalf("error = %v, want a %s error saying %q", err, kind, says)
	}
}

func TestReadMediaFromFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	img := filepath.Join(dir, "a.png")
	if err := os.WriteFile(img, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := ReadMedia(ctx, nil, Media{Path: img}, 10)
	if err != nil || string(data) != "0123456789" {
		t.Fatalf("ReadMedia of a 10-byte file with max 10 = %q, %v", data, err)
	}
	_, err = ReadMedia(ctx, nil, Media{Path: img}, 9)
	wantError(t, err, Permanent, img+" is larger than 9 bytes")
	_, err = ReadMedia(ctx, nil, Media{Path: filepath.Join(dir, "missing.png")}, 10)
	wantError(t, err, Permanent, "reading "+filepath.Join(dir, "missing.png")+": no such file")
	_, err = ReadMedia(ctx, nil, Media{}, 10)
	wantError(t, err, Permanent, "neither a path nor a URL")
}

func TestReadMediaFromURL(t *testing.T) {
	ctx := context.Background()
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/a.png":
			_, _ = w.Write([]byte("png bytes"))
		case "/big.png":
			_, _ = w.Write(bytes.Repeat([]byte("x"), 100))
		case "/busy.png":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/slow-down.png":
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	data, err := ReadMedia(ctx, srv.Client(), Media{URL: srv.URL + "/a.png"}, 50)
	if err != nil || string(data) != "png bytes" {
		t.Fatalf("ReadMedia = %q, %v", data, err)
	}
	if auth[0] != "" {
		t.Fatalf("the download carried credentials: %q", auth[0])
	}
	_, err = ReadMedia(ctx, srv.Client(), Media{URL: srv.URL + "/big.png"}, 50)
	wantError(t, err, Permanent, "/big.png is larger than 50 bytes")
	_, err = ReadMedia(ctx, srv.Client(), Media{URL: srv.URL + "/gone.png"}, 50)
	wantError(t, err, Permanent, "404 Not Found")
	_, err = ReadMedia(ctx, srv.Client(), Media{URL: srv.URL + "/busy.png"}, 50)
	wantError(t, err, Retryable, "503 Service Unavailable")
	_, err = ReadMedia(ctx, srv.Client(), Media{URL: srv.URL + "/slow-down.png"}, 50)
	wantError(t, err, Retryable, "429 Too Many Requests")
	_, err = ReadMedia(ctx, srv.Client(), Media{URL: "://nope"}, 50)
	wantError(t, err, Permanent, `attachment URL "://nope"`)

	// A server that is gone: the download may work later.
	down := httptest.NewServer(http.NotFoundHandler())
	url := down.URL + "/a.png"
	down.Close()
	_, err = ReadMedia(ctx, nil, Media{URL: url}, 50)
	wantError(t, err, Retryable, "downloading "+url)
}

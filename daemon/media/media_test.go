package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
)

// PNG returns a small real PNG image; its pixel at (0,0) is shade, so tests can make
// different images.
func PNG(tb testing.TB, w, h int, shade uint8) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{shade, shade, shade, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func openStore(t *testing.T, max int64) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "media"), max)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPutSniffsStoresAndDescribes(t *testing.T) {
	s := openStore(t, 0)
	var jpg, gf bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewRGBA(image.Rect(0, 0, 7, 5)), nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gf, image.NewPaletted(image.Rect(0, 0, 3, 2), []color.Color{color.White, color.Black}), nil); err != nil {
		t.Fatal(err)
	}
	webp := append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), make([]byte, 32)...)
	mp4 := append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), make([]byte, 64)...)
	for _, c := range []struct {
		name, typ string
		data      []byte
		w, h      int
	}{
		{"png", "image/png", PNG(t, 4, 3, 9), 4, 3},
		{"jpeg", "image/jpeg", jpg.Bytes(), 7, 5},
		{"gif", "image/gif", gf.Bytes(), 3, 2},
		{"webp", "image/webp", webp, 0, 0},
		{"mp4", "video/mp4", mp4, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			info, created, err := s.Put(bytes.NewReader(c.data))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(c.data)
			want := Info{ID: hex.EncodeToString(sum[:]), Type: c.typ, Size: int64(len(c.data)), Width: c.w, Height: c.h}
			if info != want || !created {
				t.Fatalf("Put = %+v, created %v; want %+v, created", info, created, want)
			}
			fi, err := os.Stat(filepath.Join(s.dir, info.ID))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("stored file: %v, mode %v; want 0600", err, fi.Mode())
			}
			data, got, err := s.Read("media[0]", info.ID)
			if err != nil || !bytes.Equal(data, c.data) || got != want {
				t.Fatalf("Read = %d bytes, %+v, %v", len(data), got, err)
			}
			// A store opened afresh (a restart) describes it the same from the file.
			again, err := Open(s.dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := again.Stat("media[0]", info.ID); err != nil || got != want {
				t.Fatalf("Stat after reopen = %+v, %v", got, err)
			}
		})
	}
}

func TestPutSameBytesIsOneAttachment(t *testing.T) {
	s := openStore(t, 0)
	img := PNG(t, 2, 2, 1)
	a, created1, err1 := s.Put(bytes.NewReader(img))
	b, created2, err2 := s.Put(bytes.NewReader(img))
	if err1 != nil || err2 != nil || a != b || !created1 || created2 {
		t.Fatalf("two Puts: %+v %v %v / %+v %v %v", a, created1, err1, b, created2, err2)
	}
	entries, _ := os.ReadDir(s.dir)
	if len(entries) != 1 {
		t.Fatalf("the media directory holds %d files, want 1 (no temporary files left)", len(entries))
	}
}

func TestPutRefusesAndLeavesNothing(t *testing.T) {
	broken := PNG(t, 2, 2, 1)[:20] // a PNG signature with a cut header
	for _, c := range []struct {
		name string
		data []byte
		kind queue.Kind
		says string
	}{
		{"svg can carry scripts", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), queue.Unsupported, "not an image"},
		{"html", []byte("<!DOCTYPE html><html><script>x</script>"), queue.Unsupported, "text/html"},
		{"a text file", []byte("not an image at all"), queue.Unsupported, "text/plain"},
		{"an executable", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"), queue.Unsupported, "application/octet-stream"},
		{"a broken png", broken, queue.Invalid, "not a readable image"},
		{"empty", nil, queue.Invalid, "empty"},
		{"over the limit", append(PNG(t, 1, 1, 0), make([]byte, 1100)...), queue.TooLarge, "larger than 1 KiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t, 1024)
			_, _, err := s.Put(bytes.NewReader(c.data))
			if queue.ErrorKind(err) != c.kind || !strings.Contains(err.Error(), c.says) || queue.ErrorField(err) != "file" {
				t.Fatalf("Put = %v (kind %q, field %q); want kind %q saying %q about field file", err, queue.ErrorKind(err), queue.ErrorField(err), c.kind, c.says)
			}
			if entries, _ := os.ReadDir(s.dir); len(entries) != 0 {
				t.Fatalf("a refused upload left %d files", len(entries))
			}
		})
	}
}

func TestIDsOnlyNeverPaths(t *testing.T) {
	s := openStore(t, 0)
	secret := filepath.Join(t.TempDir(), "private.png")
	if err := os.WriteFile(secret, PNG(t, 1, 1, 0), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{secret, "../" + filepath.Base(secret), "/etc/passwd", "file:///etc/passwd",
		"http://127.0.0.1/x.png", strings.Repeat("A", 64), strings.Repeat("0", 63) + "/", ""} {
		_, err := s.Stat("media[0]", id)
		if queue.ErrorKind(err) != queue.Invalid || !strings.Contains(err.Error(), "not an attachment id") {
			t.Fatalf("Stat(%q) = %v; want invalid: not an attachment id", id, err)
		}
		if _, _, err := s.Read("media[0]", id); queue.ErrorKind(err) != queue.Invalid {
			t.Fatalf("Read(%q) = %v; want invalid", id, err)
		}
	}
	missing := strings.Repeat("ab", 32)
	if _, err := s.Stat("media[1]", missing); queue.ErrorKind(err) != queue.NotFound || queue.ErrorField(err) != "media[1]" {
		t.Fatalf("Stat(unknown id) = %v; want not found about media[1]", err)
	}
}

func TestReadRefusesAChangedFile(t *testing.T) {
	s := openStore(t, 0)
	info, _, err := s.Put(bytes.NewReader(PNG(t, 2, 2, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, info.ID), PNG(t, 2, 2, 4), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Read("media[0]", info.ID); err == nil || !strings.Contains(err.Error(), "no longer has that hash") {
		t.Fatalf("Read of a changed file = %v; want it refused", err)
	}
}

func FuzzPut(f *testing.F) {
	f.Add(PNG(f, 3, 3, 0))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Add([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"))
	f.Add([]byte("<svg></svg>"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	dir := f.TempDir()
	s, err := Open(dir, 4096)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, _, err := s.Put(bytes.NewReader(data))
		if err != nil {
			switch queue.ErrorKind(err) {
			case queue.Invalid, queue.Unsupported, queue.TooLarge:
			default:
				t.Fatalf("Put refused with %v (kind %q); want invalid, unsupported or too large", err, queue.ErrorKind(err))
			}
			return
		}
		sum := sha256.Sum256(data)
		if info.ID != hex.EncodeToString(sum[:]) || info.Size != int64(len(data)) || len(data) > 4096 {
			t.Fatalf("Put(%d bytes) = %+v", len(data), info)
		}
		got, again, err := s.Read("media[0]", info.ID)
		if err != nil || !bytes.Equal(got, data) || again != info {
			t.Fatalf("Read after Put = %d bytes, %+v, %v; want the same bytes and %+v", len(got), again, err, info)
		}
	})
}

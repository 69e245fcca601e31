package sdk

import (
	"strings"
	"testing"
)

func TestMediaType(t *testing.T) {
	for _, tc := range []struct {
		m    Media
		want string
	}{
		{Media{MimeType: "image/png"}, "image/png"},
		{Media{MimeType: "image/gif; charset=binary"}, "image/gif"},
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

func TestMediaData(t *testing.T) {
	m := Media{ID: strings.Repeat("c", 64), MimeType: "image/png", Size: 10, Data: []byte("0123456789")}
	if data, err := MediaData(m, 10); err != nil || string(data) != "0123456789" {
		t.Fatalf("MediaData of 10 bytes with max 10 = %q, %v", data, err)
	}
	_, err := MediaData(m, 9)
	wantError(t, err, Permanent, "attachment cccccccccccc is 10 bytes, more than the 9 this network takes")
	m.Data = nil
	_, err = MediaData(m, 10)
	wantError(t, err, Permanent, "came without its bytes")
}

func TestMediaSizeProblemAndFileName(t *testing.T) {
	m := Media{ID: strings.Repeat("d", 64), MimeType: "image/jpeg", Size: 3 << 20}
	if p := MediaSizeProblem(2, m, 3<<20, "Bluesky"); p != nil {
		t.Fatalf("at the limit: %v", p)
	}
	p := MediaSizeProblem(2, m, 1<<20, "Bluesky")
	if p == nil || p.String() != "media[2]: the file is 3.0 MiB; Bluesky takes at most 1.0 MiB: use a smaller file" {
		t.Fatalf("over the limit: %v", p)
	}
	if got := FileName(m); got != "dddddddddddd.jpg" {
		t.Fatalf("FileName = %q", got)
	}
	if got := FileName(Media{MimeType: "video/mp4"}); got != "attachment.mp4" {
		t.Fatalf("FileName without id = %q", got)
	}
}

// Package media owns the attachments tact publishes. An attachment enters tact only as
// bytes: uploaded by a person through the API or the web UI, or fetched once, at
// submission, from a public URL (fetch.go). Its type is sniffed from the bytes, never taken
// from a name or a header; it is stored content-addressed under the data directory and
// referred to by its id, the hex SHA-256 of its bytes. Posts hold ids, plugins are handed
// the bytes, and nothing in tact opens a path or a URL a user wrote
// (docs/operations.md, "Media").
package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // DecodeConfig checks GIF headers
	_ "image/jpeg"
	_ "image/png"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/tact-hq/tact/daemon/queue"
)

// DefaultMaxBytes is the largest attachment tact stores when no limit is configured
// ([daemon] media_max_bytes). Each network has its own, smaller limits, which its plugin's
// Validate reports.
const DefaultMaxBytes = 40 << 20

// Types are the MIME types tact stores, as http.DetectContentType names them. Anything
// else, SVG and HTML among them (they can carry scripts), is refused.
var Types = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4"}

// sniffLen is how much of a file http.DetectContentType looks at.
const sniffLen = 512

// Info describes a stored attachment.
type Info struct {
	ID     string `json:"id"`   // hex SHA-256 of the bytes
	Type   string `json:"type"` // sniffed MIME type, one of Types
	Size   int64  `json:"size"` // bytes
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

// Store keeps attachments as files named by their id in one directory. Files are written
// once and never changed, so what Stat learnt of one is kept in memory.
type Store struct {
	dir string
	max int64

	mu    sync.Mutex
	known map[string]Info
}

// Open returns the store in dir (created 0700 if missing). max bounds an attachment's
// size in bytes (DefaultMaxBytes when 0 or less).
func Open(dir string, max int64) (*Store, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("media: creating %s: %w", dir, err)
	}
	return &Store{dir: dir, max: max, known: map[string]Info{}}, nil
}

// MaxBytes is the largest attachment the store takes.
func (s *Store) MaxBytes() int64 { return s.max }

// ValidID reports whether id has the form of an attachment id: 64 lower-case hex digits.
// Anything else (a path, a URL) is not looked up at all.
func ValidID(id string) bool {
	if len(id) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Put stores the bytes r yields, at most MaxBytes of them, and describes them. The same
// bytes stored twice are one attachment with one id; created says whether this call
// stored them. Errors are queue errors: TooLarge past the limit, Unsupported for a type
// tact does not take, Invalid for an image whose header is broken.
func (s *Store) Put(r io.Reader) (info Info, created bool, err error) {
	tmp, err := os.CreateTemp(s.dir, ".upload-*")
	if err != nil {
		return Info{}, false, storageError("creating a temporary file", err)
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	var head bytes.Buffer
	n, err := io.Copy(io.MultiWriter(tmp, h, &prefixWriter{buf: &head, max: sniffLen}), io.LimitReader(r, s.max+1))
	if err != nil {
		var mbe *http.MaxBytesError // the HTTP body's own limit, when the caller set one
		if errors.As(err, &mbe) {
			return Info{}, false, s.tooLarge()
		}
		return Info{}, false, &queue.Error{Kind: queue.Invalid, Field: "file", Message: "reading the upload failed; send the file again", Err: err}
	}
	if n > s.max {
		return Info{}, false, s.tooLarge()
	}
	if n == 0 {
		return Info{}, false, queue.Errorf(queue.Invalid, "file", "the upload is empty; send the file's bytes")
	}
	info = Info{ID: hex.EncodeToString(h.Sum(nil)), Size: n}
	if info.Type, err = sniff(head.Bytes()); err != nil {
		return Info{}, false, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Info{}, false, storageError("rereading the upload", err)
	}
	if info.Width, info.Height, err = dimensions(tmp, info.Type); err != nil {
		return Info{}, false, err
	}
	final := s.path(info.ID)
	if _, err := os.Stat(final); err == nil {
		s.remember(info)
		return info, false, nil
	}
	if err := tmp.Sync(); err != nil {
		return Info{}, false, storageError("writing the upload", err)
	}
	if err := tmp.Close(); err != nil {
		return Info{}, false, storageError("writing the upload", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Info{}, false, storageError("storing the upload", err)
	}
	tmp = nil
	if err := syncDir(s.dir); err != nil {
		return Info{}, false, storageError("storing the upload", err)
	}
	s.remember(info)
	return info, true, nil
}

// Stat describes the stored attachment id: NotFound when there is none (or id is not an
// id), about field.
func (s *Store) Stat(field, id string) (Info, error) {
	if !ValidID(id) {
		return Info{}, notAnID(field, id)
	}
	s.mu.Lock()
	info, ok := s.known[id]
	s.mu.Unlock()
	if ok {
		return info, nil
	}
	f, err := os.Open(s.path(id))
	if err != nil {
		return Info{}, s.openError(field, id, err)
	}
	defer f.Close()
	info, err = describe(f, id)
	if err != nil {
		return Info{}, err
	}
	s.remember(info)
	return info, nil
}

// Read returns the stored attachment's bytes and description. A file changed on disk
// since it was stored (its hash no longer its id) is refused rather than published.
func (s *Store) Read(field, id string) ([]byte, Info, error) {
	if !ValidID(id) {
		return nil, Info{}, notAnID(field, id)
	}
	data, err := os.ReadFile(s.path(id))
	if err != nil {
		return nil, Info{}, s.openError(field, id, err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != id {
		return nil, Info{}, fmt.Errorf("media: the stored file of attachment %s no longer has that hash (changed on disk); upload it again", id)
	}
	info, err := describe(bytes.NewReader(data), id)
	if err != nil {
		return nil, Info{}, err
	}
	return data, info, nil
}

// Open returns the stored attachment for streaming (the API's GET), with its description.
func (s *Store) Open(field, id string) (io.ReadSeekCloser, Info, error) {
	info, err := s.Stat(field, id)
	if err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(s.path(id))
	if err != nil {
		return nil, Info{}, s.openError(field, id, err)
	}
	return f, info, nil
}

func (s *Store) path(id string) string { return filepath.Join(s.dir, id) }

func (s *Store) remember(info Info) {
	s.mu.Lock()
	s.known[info.ID] = info
	s.mu.Unlock()
}

func (s *Store) tooLarge() error {
	return queue.Errorf(queue.TooLarge, "file", "the file is larger than %s, the most tact stores ([daemon] media_max_bytes); make it smaller", byteSize(s.max))
}

func (s *Store) openError(field, id string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return queue.Errorf(queue.NotFound, field, "no uploaded attachment has id %s; upload the file (POST /api/v1/media) and use the id it returns", id)
	}
	return storageError("reading attachment "+id, err)
}

func notAnID(field, id string) error {
	shown := id
	if len(shown) > 80 {
		shown = shown[:80] + "…"
	}
	return queue.Errorf(queue.Invalid, field, "%q is not an attachment id: tact takes media only as uploads; upload the file (POST /api/v1/media, tactctl media upload FILE) and use the id it returns", shown)
}

func storageError(doing string, err error) error {
	return &queue.Error{Kind: queue.Unavailable, Message: "media storage: " + doing + " failed; try again (the daemon's disk may be full)", Err: err}
}

// describe sniffs and measures a stored file.
func describe(r io.ReadSeeker, id string) (Info, error) {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Info{}, storageError("reading attachment "+id, err)
	}
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return Info{}, storageError("reading attachment "+id, err)
	}
	info := Info{ID: id, Size: size}
	if info.Type, err = sniff(head[:n]); err != nil {
		return Info{}, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return Info{}, storageError("reading attachment "+id, err)
	}
	if info.Width, info.Height, err = dimensions(r, info.Type); err != nil {
		return Info{}, err
	}
	return info, nil
}

// sniff names the type of a file from its first bytes.
func sniff(head []byte) (string, error) {
	t := http.DetectContentType(head)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	if !slices.Contains(Types, t) {
		return "", queue.Errorf(queue.Unsupported, "file", "the file's bytes are %s, not an image or video tact publishes (%s); convert it to one of those", t, strings.Join(Types, ", "))
	}
	return t, nil
}

// dimensions reads an image's header: a file that claims to be an image but whose header
// does not decode is refused now rather than by the network at publish time.
func dimensions(r io.Reader, typ string) (int, int, error) {
	switch typ {
	case "image/png", "image/jpeg", "image/gif":
	default:
		return 0, 0, nil
	}
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return 0, 0, queue.Errorf(queue.Invalid, "file", "the file starts like %s but is not a readable image (%v); export it again", typ, err)
	}
	return cfg.Width, cfg.Height, nil
}

// prefixWriter keeps the first max bytes written to it.
type prefixWriter struct {
	buf *bytes.Buffer
	max int
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

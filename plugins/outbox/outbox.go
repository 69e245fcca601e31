// Package outbox is the built-in "outbox" network: it publishes by appending each post as
// one JSON line to a file. The demo and dry runs use it, and it is the reference for how a
// plugin keeps the idempotency promise: a key that was published once is answered from
// the file, never written twice.
//
// Settings:
//
//	path        absolute path of the JSON-lines file (created if missing; its directory must exist)
//	max_length  longest text accepted, in Unicode code points (default 500)
//
// Lines are either a post:
//
//	{"idempotency_key":"…","text":"…","link":"…","media":[…],"published_at":"…","remote_id":"outbox-…"}
//
// where a media item is {"id":"…","mime_type":"image/png","size":1234,"sha256":"…","alt":"…"}:
// sha256 is the hash of the bytes the outbox received, so a reader can check they are the
// attachment's (its id is the same hash).
//
// or a deletion: {"deleted":"outbox-…","deleted_at":"…"}.
package outbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// Version is the outbox plugin's version, reported by Describe.
const Version = "1.0.0"

// DefaultMaxLength is the text limit when the max_length setting is absent.
const DefaultMaxLength = 500

// maxMedia is how many attachments one line may carry.
const maxMedia = 4

// settingsKeys are the settings Configure understands; others are refused.
var settingsKeys = []string{"path", "max_length"}

// Outbox is one outbox account. The zero value is not usable; call New.
type Outbox struct {
	now func() time.Time

	mu        sync.Mutex
	path      string
	maxLength int
	file      *os.File // open for the whole life of the account: reads and appends
	offset    int64    // how far the file has been read into the index
	byKey     map[string]sdk.Receipt
	byID      map[string]bool // remote id -> deleted
}

// New returns an unconfigured outbox. now stamps published_at; nil means time.Now.
func New(now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	return &Outbox{now: now, maxLength: DefaultMaxLength}
}

var _ sdk.Network = (*Outbox)(nil)

// Describe says what the outbox accepts.
func (o *Outbox) Describe(context.Context) (sdk.Description, error) {
	o.mu.Lock()
	max := o.maxLength
	o.mu.Unlock()
	return sdk.Description{
		Name:         "outbox",
		Version:      Version,
		MaxLength:    max,
		Counting:     sdk.CountRunes,
		MaxMedia:     maxMedia,
		Capabilities: []string{"lookup", "delete", "media"},
		SettingsKeys: append([]string(nil), settingsKeys...),
	}, nil
}

// Configure opens the file named by the path setting and reads what it already holds, so
// keys published before a restart are still known.
func (o *Outbox) Configure(_ context.Context, settings map[string]string) error {
	var unknown []string
	for k := range settings {
		if k != "path" && k != "max_length" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return sdk.Errorf(sdk.Permanent, "outbox: unknown setting(s) %s; the outbox understands %s",
			strings.Join(unknown, ", "), strings.Join(settingsKeys, ", "))
	}
	path := settings["path"]
	if path == "" || !filepath.IsAbs(path) {
		return sdk.Errorf(sdk.Permanent, "outbox: setting path must be an absolute file path, got %q", path)
	}
	max := DefaultMaxLength
	if v, ok := settings["max_length"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return sdk.Errorf(sdk.Permanent, "outbox: setting max_length must be a positive whole number, got %q", v)
		}
		max = n
	}

	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return sdk.Errorf(sdk.Permanent, "outbox: cannot open %s: %v (its directory must exist and be writable)", path, err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		// The new file's name must survive a crash as well as its lines.
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return sdk.Errorf(sdk.Retryable, "outbox: %v", err)
		}
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file != nil {
		o.file.Close()
	}
	o.path, o.maxLength, o.file = path, max, f
	o.offset, o.byKey, o.byID = 0, map[string]sdk.Receipt{}, map[string]bool{}
	return o.locked(o.catchUp)
}

// Close releases the file. The plugin process exits instead; in-process users call it.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file == nil {
		return nil
	}
	err := o.file.Close()
	o.file = nil
	return err
}

// Validate refuses empty text, text over max_length and too many attachments.
func (o *Outbox) Validate(_ context.Context, p sdk.Post) ([]sdk.Problem, error) {
	o.mu.Lock()
	max := o.maxLength
	o.mu.Unlock()
	return problems(p, max), nil
}

func problems(p sdk.Post, max int) []sdk.Problem {
	var out []sdk.Problem
	if strings.TrimSpace(p.Text) == "" {
		out = append(out, sdk.Problem{Field: "text", Message: "is empty"})
	}
	if n := sdk.Count(sdk.CountRunes, p.Text); n > max {
		out = append(out, sdk.Problem{Field: "text", Message: fmt.Sprintf("is %d characters long; the limit is %d", n, max)})
	}
	if len(p.Media) > maxMedia {
		out = append(out, sdk.Problem{Field: "media", Message: fmt.Sprintf("has %d attachments; the limit is %d", len(p.Media), maxMedia)})
	}
	return out
}

// record is a post line.
type record struct {
	IdempotencyKey string      `json:"idempotency_key"`
	Text           string      `json:"text"`
	Link           string      `json:"link"`
	Media          []mediaLine `json:"media"`
	Language       string      `json:"language,omitempty"`
	PublishedAt    time.Time   `json:"published_at"`
	RemoteID       string      `json:"remote_id"`
}

type mediaLine struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"` // of the bytes received
	Alt      string `json:"alt,omitempty"`
}

// deletion is a deletion line.
type deletion struct {
	Deleted   string    `json:"deleted"`
	DeletedAt time.Time `json:"deleted_at"`
}

// anyLine reads either kind of line.
type anyLine struct {
	record
	Deleted string `json:"deleted"`
}

// Publish appends p as one line and fsyncs it, unless key was published before: then it
// returns the first receipt and writes nothing.
func (o *Outbox) Publish(_ context.Context, p sdk.Post, key string) (sdk.Receipt, error) {
	if key == "" {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "outbox: publish needs an idempotency key")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file == nil {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "outbox: not configured (no path setting was given)")
	}
	var receipt sdk.Receipt
	err := o.locked(func() error {
		if err := o.catchUp(); err != nil {
			return err
		}
		if r, ok := o.byKey[key]; ok {
			receipt = r
			return nil
		}
		if ps := problems(p, o.maxLength); len(ps) > 0 {
			return sdk.Errorf(sdk.Permanent, "outbox: refused: %s", ps[0])
		}
		rec := record{
			IdempotencyKey: key,
			Text:           p.Text,
			Link:           p.Link,
			Media:          []mediaLine{},
			Language:       p.Language,
			PublishedAt:    o.now().UTC(),
			RemoteID:       remoteID(key),
		}
		for _, m := range p.Media {
			data, err := sdk.MediaData(m, sdk.MaxMessageBytes)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			rec.Media = append(rec.Media, mediaLine{ID: m.ID, MimeType: m.MimeType, Size: int64(len(data)),
				SHA256: hex.EncodeToString(sum[:]), Alt: m.Alt})
		}
		if err := o.appendLine(rec); err != nil {
			return err
		}
		receipt = o.receipt(rec)
		o.byKey[key] = receipt
		o.byID[rec.RemoteID] = false
		return nil
	})
	return receipt, err
}

// Lookup finds key in the file, including lines other processes appended.
func (o *Outbox) Lookup(_ context.Context, key string) (sdk.Receipt, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file == nil {
		return sdk.Receipt{}, false, sdk.Errorf(sdk.Permanent, "outbox: not configured (no path setting was given)")
	}
	var (
		r     sdk.Receipt
		found bool
	)
	err := o.locked(func() error {
		if err := o.catchUp(); err != nil {
			return err
		}
		r, found = o.byKey[key]
		return nil
	})
	return r, found, err
}

// Delete appends a deletion line for remoteID. Deleting twice is not an error.
func (o *Outbox) Delete(_ context.Context, id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file == nil {
		return sdk.Errorf(sdk.Permanent, "outbox: not configured (no path setting was given)")
	}
	return o.locked(func() error {
		if err := o.catchUp(); err != nil {
			return err
		}
		deleted, ok := o.byID[id]
		if !ok {
			return sdk.Errorf(sdk.Permanent, "outbox: no post with remote id %q in %s", id, o.path)
		}
		if deleted {
			return nil
		}
		if err := o.appendLine(deletion{Deleted: id, DeletedAt: o.now().UTC()}); err != nil {
			return err
		}
		o.byID[id] = true
		return nil
	})
}

// locked runs fn holding an exclusive lock on the file, so two processes sharing a path
// (two accounts, or a restarted plugin beside a dying one) never interleave their checks
// and appends. o.mu must be held.
func (o *Outbox) locked(fn func() error) error {
	if err := lockFile(o.file); err != nil {
		return sdk.Errorf(sdk.Retryable, "outbox: locking %s: %v", o.path, err)
	}
	defer unlockFile(o.file)
	return fn()
}

// catchUp reads lines appended since the last read into the index. A last line without
// its newline was cut short by a crash mid-write: it is ended with a newline, so the next
// append starts a line of its own, and skipped. o.mu and the file lock must be held.
func (o *Outbox) catchUp() error {
	st, err := o.file.Stat()
	if err != nil {
		return sdk.Errorf(sdk.Retryable, "outbox: %v", err)
	}
	if st.Size() <= o.offset {
		return nil
	}
	r := bufio.NewReader(io.NewSectionReader(o.file, o.offset, st.Size()-o.offset))
	lineNo := 0
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				slog.Warn("outbox: ending a line cut short by a crash", "path", o.path, "bytes", len(line))
				if _, err := o.file.Write([]byte("\n")); err != nil {
					return sdk.Errorf(sdk.Retryable, "outbox: writing %s: %v", o.path, err)
				}
				o.offset += int64(len(line)) + 1
			}
			return nil
		}
		if err != nil {
			return sdk.Errorf(sdk.Retryable, "outbox: reading %s: %v", o.path, err)
		}
		lineNo++
		o.offset += int64(len(line))
		o.index(line, lineNo)
	}
}

func (o *Outbox) index(line []byte, lineNo int) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	var l anyLine
	if err := json.Unmarshal(line, &l); err != nil {
		slog.Warn("outbox: skipping a line that is not JSON", "path", o.path, "error", err)
		return
	}
	switch {
	case l.Deleted != "":
		o.byID[l.Deleted] = true
	case l.IdempotencyKey != "":
		if _, dup := o.byKey[l.IdempotencyKey]; !dup { // the first line for a key is the receipt
			o.byKey[l.IdempotencyKey] = o.receipt(l.record)
		}
		if _, seen := o.byID[l.RemoteID]; !seen {
			o.byID[l.RemoteID] = false
		}
	}
}

func (o *Outbox) receipt(rec record) sdk.Receipt {
	return sdk.Receipt{RemoteID: rec.RemoteID, URL: "file://" + o.path + "#" + rec.RemoteID, PublishedAt: rec.PublishedAt}
}

// appendLine writes v as one line and fsyncs it before anyone is told it was published.
func (o *Outbox) appendLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return sdk.Errorf(sdk.Permanent, "outbox: %v", err)
	}
	b = append(b, '\n')
	if _, err := o.file.Write(b); err != nil {
		return sdk.Errorf(sdk.Retryable, "outbox: writing %s: %v", o.path, err)
	}
	if err := o.file.Sync(); err != nil {
		return sdk.Errorf(sdk.Retryable, "outbox: syncing %s: %v", o.path, err)
	}
	o.offset += int64(len(b))
	return nil
}

// remoteID derives the post's id from its key, so it is the same whoever writes it.
func remoteID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "outbox-" + hex.EncodeToString(sum[:8])
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

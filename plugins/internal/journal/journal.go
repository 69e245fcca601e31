// Package journal is the send journal of the network plugins whose network cannot say by
// itself whether a post was made (mastodon, linkedin, x, facebook, micropub): a JSON-lines
// file in the account's state_dir. Before a post is sent the plugin appends an attempt
// (key, time, what it sent) and syncs it; after the network answers it appends the
// attempt again with the receipt or the refusal. A process started after a crash reads it
// back, so Lookup knows which keys were never sent, which were published, and which were
// in flight (docs/plugins.md, "Lookup").
//
// Each plugin keeps its own record type, which embeds Attempt and adds what its Lookup
// needs to recognise a post (a text hash, the content kind, the author, a slug…): the
// lines stay flat JSON objects, as each plugin wrote them before this package existed.
package journal

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// Retention is how long a journal remembers a key. The daemon resolves an interrupted publish
// when the plugin restarts; a month is far more than it needs.
const Retention = 30 * 24 * time.Hour

// Attempt is what every journal records of one idempotency key. Its last line in the
// file is its state: in flight (neither Receipt nor Refused), published, or refused.
type Attempt struct {
	Key     string       `json:"key"`
	Sending time.Time    `json:"sending"`           // when the post was about to be sent
	Receipt *sdk.Receipt `json:"receipt,omitempty"` // set once the network answered with the post
	// Refused is set when the network answered with a refusal: nothing was made.
	Refused bool `json:"refused,omitempty"`
}

// InFlight reports an attempt sent without an answer: its post may exist.
func (a Attempt) InFlight() bool { return a.Receipt == nil && !a.Refused }

func (a Attempt) attempt() Attempt { return a }

// Record is a plugin's line type: a struct that embeds Attempt.
type Record interface{ attempt() Attempt }

// Options name the journal in its error messages.
type Options struct {
	// Plugin starts every message: "mastodon" gives "mastodon: writing journal …".
	Plugin string
	// Noun is what the messages call the file ("journal" when empty).
	Noun string
}

// Journal is the crash-recovery record behind a plugin's Lookup. Without a file (Memory)
// it remembers only what this process sent. It is safe for concurrent use, but a plugin
// still serialises its publishes around it: one key must not be sent by two calls.
type Journal[R Record] struct {
	path string
	o    Options

	mu      sync.Mutex
	records map[string]R
}

// Memory returns a journal without a file.
func Memory[R Record]() *Journal[R] { return &Journal[R]{records: map[string]R{}} }

// Open loads the journal at path (creating its directory, mode 0700), forgets attempts
// older than Retention and rewrites the file with one line per key, so it stays small however
// long the account runs.
func Open[R Record](path string, now time.Time, o Options) (*Journal[R], error) {
	if o.Noun == "" {
		o.Noun = "journal"
	}
	j := &Journal[R]{path: path, o: o, records: map[string]R{}}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%s: creating state_dir: %w: set state_dir to a directory the daemon can write", o.Plugin, err)
	}
	if err := j.load(); err != nil {
		return nil, err
	}
	for k, r := range j.records {
		if now.Sub(r.attempt().Sending) > Retention {
			delete(j.records, k)
		}
	}
	if err := j.compact(); err != nil {
		return nil, j.errorf("compacting", err)
	}
	return j, nil
}

func (j *Journal[R]) errorf(verb string, err error) error {
	return fmt.Errorf("%s: %s %s %s: %w", j.o.Plugin, verb, j.o.Noun, j.path, err)
}

func (j *Journal[R]) load() error {
	f, err := os.Open(j.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return j.errorf("opening", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var r R
		// A line torn by a crash mid-write is skipped: a post is only sent after its line
		// is synced, so a torn line was never sent.
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.attempt().Key == "" {
			continue
		}
		j.records[r.attempt().Key] = r
	}
	if err := sc.Err(); err != nil {
		return j.errorf("reading", err)
	}
	return nil
}

// compact replaces the file with one line per remembered attempt, through a new file
// renamed into place, then syncs the directory so the rename survives a crash.
func (j *Journal[R]) compact() error {
	tmp, err := os.CreateTemp(filepath.Dir(j.path), ".journal-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	for _, r := range j.records {
		if err := enc.Encode(r); err != nil {
			tmp.Close()
			return err
		}
	}
	for _, step := range []func() error{w.Flush, tmp.Sync, tmp.Close} {
		if err := step(); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := os.Rename(tmp.Name(), j.path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(j.path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// InMemory reports a journal without a file: it knows nothing of earlier processes.
func (j *Journal[R]) InMemory() bool { return j.path == "" }

// Get returns a copy of key's latest record, or nil.
func (j *Journal[R]) Get(key string) *R {
	j.mu.Lock()
	defer j.mu.Unlock()
	r, ok := j.records[key]
	if !ok {
		return nil
	}
	return &r
}

// Append remembers r and, with a file, appends it and syncs the file before returning.
// When the write fails r is not remembered: a send must not go out unrecorded.
func (j *Journal[R]) Append(r R) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.path != "" {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return j.errorf("writing", err)
		}
		_, werr := f.Write(append(line, '\n'))
		serr := f.Sync()
		cerr := f.Close()
		for _, err := range []error{werr, serr, cerr} {
			if err != nil {
				return j.errorf("writing", err)
			}
		}
	}
	j.records[r.attempt().Key] = r
	return nil
}

// Keep remembers r in memory only: for an answer already received whose line could not
// be written (the post exists; this process at least must not send it again).
func (j *Journal[R]) Keep(r R) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.records[r.attempt().Key] = r
}

// Forget drops key from memory (not from the file).
func (j *Journal[R]) Forget(key string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.records, key)
}

// Owner is the key whose receipt is the post remoteID, or "": an in-flight attempt is
// never matched to a post another key already owns (two posts may well have the same
// text).
func (j *Journal[R]) Owner(remoteID string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, r := range j.records {
		if a := r.attempt(); a.Receipt != nil && a.Receipt.RemoteID == remoteID {
			return a.Key
		}
	}
	return ""
}

package x

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// journalKeep is how long the journal remembers a key. The daemon resolves an interrupted
// publish when it restarts; a month is far more than it needs.
const journalKeep = 30 * 24 * time.Hour

// journalName is the journal's file in state_dir (one account per state_dir).
const journalName = "x-journal.jsonl"

// attempt is what the plugin knows of one idempotency key.
type attempt struct {
	Key     string    `json:"key"`
	Sending time.Time `json:"sending"` // when the post was about to be sent
	User    string    `json:"user"`    // the X user id it was sent as
	Text    string    `json:"text"`    // the text sent
	Media   int       `json:"media"`   // attachments sent
	// Refused is set when X answered with a refusal: nothing was created.
	Refused bool         `json:"refused,omitempty"`
	Receipt *sdk.Receipt `json:"receipt,omitempty"` // set once X answered with the post
}

// journal is the crash-recovery record behind Lookup (see the package comment). Without a
// file (no state_dir) it lives in memory only.
type journal struct {
	path     string
	attempts map[string]*attempt
}

func memoryJournal() *journal { return &journal{attempts: map[string]*attempt{}} }

// openJournal loads dir's journal, drops attempts older than journalKeep and rewrites the
// file compacted, so it stays small however long the account runs.
func openJournal(dir string, now time.Time) (*journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("x: creating state_dir: %w: set state_dir to a directory the daemon can write", err)
	}
	j := &journal{path: filepath.Join(dir, journalName), attempts: map[string]*attempt{}}
	f, err := os.Open(j.path)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, fmt.Errorf("x: opening the journal %s: %w", j.path, err)
	default:
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var a attempt
			// A line torn by a crash in mid-write is skipped: its post was never sent,
			// because a post is only sent once its line is synced.
			if json.Unmarshal(sc.Bytes(), &a) != nil || a.Key == "" {
				continue
			}
			j.attempts[a.Key] = &a
		}
		err := sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("x: reading the journal %s: %w", j.path, err)
		}
	}
	for k, a := range j.attempts {
		if now.Sub(a.Sending) > journalKeep {
			delete(j.attempts, k)
		}
	}
	return j, j.rewrite()
}

// rewrite replaces the file with one line per remembered attempt.
func (j *journal) rewrite() error {
	fail := func(err error) error { return fmt.Errorf("x: compacting the journal %s: %w", j.path, err) }
	tmp, err := os.CreateTemp(filepath.Dir(j.path), ".journal-*")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	for _, a := range j.attempts {
		if err := enc.Encode(a); err != nil {
			tmp.Close()
			return fail(err)
		}
	}
	for _, step := range []func() error{w.Flush, tmp.Sync, tmp.Close} {
		if err := step(); err != nil {
			return fail(err)
		}
	}
	if err := os.Rename(tmp.Name(), j.path); err != nil {
		return fail(err)
	}
	d, err := os.Open(filepath.Dir(j.path))
	if err != nil {
		return fail(err)
	}
	defer d.Close()
	return d.Sync()
}

// record remembers a and, with a file, appends it durably before returning.
func (j *journal) record(a attempt) error {
	if j.path != "" {
		line, err := json.Marshal(a)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("x: writing the journal %s: %w", j.path, err)
		}
		_, werr := f.Write(append(line, '\n'))
		serr := f.Sync()
		cerr := f.Close()
		for _, err := range []error{werr, serr, cerr} {
			if err != nil {
				return fmt.Errorf("x: writing the journal %s: %w", j.path, err)
			}
		}
	}
	j.attempts[a.Key] = &a
	return nil
}

// publishedIDs are the post ids of all receipts, so that an interrupted attempt is never
// matched to a post another key owns (two posts may have the same text, days apart).
func (j *journal) publishedIDs() map[string]bool {
	ids := map[string]bool{}
	for _, a := range j.attempts {
		if a.Receipt != nil {
			ids[a.Receipt.RemoteID] = true
		}
	}
	return ids
}

package facebook

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
// publish when the plugin restarts; a month is far more than it needs.
const journalKeep = 30 * 24 * time.Hour

// attempt is what the plugin knows about one idempotency key. Its last line in the file
// is its state: in flight (neither Receipt nor Refused), published, or refused.
type attempt struct {
	Key     string       `json:"key"`
	Sending time.Time    `json:"sending"`           // when the post was about to be sent
	Page    string       `json:"page"`              // the Page it was sent to
	Hash    string       `json:"hash"`              // textHash of its text
	Kind    string       `json:"kind"`              // shape.kind of what it carried
	Receipt *sdk.Receipt `json:"receipt,omitempty"` // set once Facebook answered with the post
	// Refused is set when Facebook answered with an error that says no post was made.
	Refused bool `json:"refused,omitempty"`
}

func (a *attempt) inFlight() bool { return a.Receipt == nil && !a.Refused }

// journal is the crash-recovery record behind Lookup (see the package comment). Before a
// post is sent, an attempt is appended and synced; after Facebook answers, the outcome is
// appended. Without a file (no state_dir) it lives in memory only.
type journal struct {
	path     string
	attempts map[string]*attempt
}

func memoryJournal() *journal { return &journal{attempts: map[string]*attempt{}} }

// openJournal loads path, forgets attempts older than journalKeep and rewrites the file
// with one line per key, so it stays small however long the account runs.
func openJournal(path string, now time.Time) (*journal, error) {
	j := &journal{path: path, attempts: map[string]*attempt{}}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("facebook: creating state_dir: %w: set state_dir to a directory the daemon can write", err)
	}
	if err := j.load(); err != nil {
		return nil, err
	}
	for k, a := range j.attempts {
		if now.Sub(a.Sending) > journalKeep {
			delete(j.attempts, k)
		}
	}
	if err := j.rewrite(); err != nil {
		return nil, fmt.Errorf("facebook: compacting journal %s: %w", path, err)
	}
	return j, nil
}

func (j *journal) load() error {
	f, err := os.Open(j.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("facebook: opening journal %s: %w", j.path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var a attempt
		// A line torn by a crash mid-write is skipped: a post is only sent after its line
		// is synced, so a torn line was never sent.
		if json.Unmarshal(sc.Bytes(), &a) != nil || a.Key == "" {
			continue
		}
		j.attempts[a.Key] = &a
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("facebook: reading journal %s: %w", j.path, err)
	}
	return nil
}

// rewrite replaces the file with one line per remembered attempt, through a new file
// renamed into place, then syncs the directory so the rename survives a crash.
func (j *journal) rewrite() error {
	tmp, err := os.CreateTemp(filepath.Dir(j.path), ".facebook-journal-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	for _, a := range j.attempts {
		if err := enc.Encode(a); err != nil {
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

// record remembers a and, with a file, appends it durably before returning.
func (j *journal) record(a attempt) error {
	if j.path != "" {
		line, err := json.Marshal(a)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("facebook: writing journal %s: %w", j.path, err)
		}
		_, werr := f.Write(append(line, '\n'))
		serr := f.Sync()
		cerr := f.Close()
		for _, err := range []error{werr, serr, cerr} {
			if err != nil {
				return fmt.Errorf("facebook: writing journal %s: %w", j.path, err)
			}
		}
	}
	j.attempts[a.Key] = &a
	return nil
}

// owner is the key whose receipt is post id, or "": an in-flight attempt is never matched
// to a post another key already owns (two posts may well have the same text).
func (j *journal) owner(id string) string {
	for _, a := range j.attempts {
		if a.Receipt != nil && a.Receipt.RemoteID == id {
			return a.Key
		}
	}
	return ""
}

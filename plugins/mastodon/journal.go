package mastodon

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
// publish when it restarts, so a month is far more than it needs.
const journalKeep = 30 * 24 * time.Hour

// attempt is what the plugin knows about one idempotency key.
type attempt struct {
	Key     string       `json:"key"`
	Sending time.Time    `json:"sending"`           // when the status was about to be sent
	Hash    string       `json:"hash"`              // textHash of the text sent
	Media   int          `json:"media"`             // attachments sent
	Receipt *sdk.Receipt `json:"receipt,omitempty"` // set once the server answered
}

// journal is the crash-recovery record behind Lookup. Before a status is sent, an attempt
// (key, time, text hash) is appended and synced; after the server answers, the receipt is
// appended. A new process reading it knows which keys were never sent (found=false), which
// were published (the receipt), and which were in flight (match the account's recent
// statuses against the hash). Without a file (no state_dir) it lives in memory only.
type journal struct {
	path     string
	attempts map[string]*attempt
}

// openJournal loads path (if not empty), drops attempts older than journalKeep and rewrites
// the file compacted, so it stays small however long the account runs.
func openJournal(path string, now time.Time) (*journal, error) {
	j := &journal{path: path, attempts: map[string]*attempt{}}
	if path == "" {
		return j, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("mastodon: creating state_dir: %w: set state_dir to a directory the daemon can write", err)
	}
	f, err := os.Open(path)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, fmt.Errorf("mastodon: opening journal %s: %w", path, err)
	default:
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var a attempt
			// A line torn by a crash in mid-write is skipped: its attempt was never sent,
			// because the status is only sent after the line is synced.
			if json.Unmarshal(sc.Bytes(), &a) != nil || a.Key == "" {
				continue
			}
			j.attempts[a.Key] = &a
		}
		err := sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("mastodon: reading journal %s: %w", path, err)
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
	tmp, err := os.CreateTemp(filepath.Dir(j.path), ".journal-*")
	if err != nil {
		return fmt.Errorf("mastodon: compacting journal: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	for _, a := range j.attempts {
		if err := enc.Encode(a); err != nil {
			tmp.Close()
			return fmt.Errorf("mastodon: compacting journal: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("mastodon: compacting journal: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("mastodon: compacting journal: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mastodon: compacting journal: %w", err)
	}
	if err := os.Rename(tmp.Name(), j.path); err != nil {
		return fmt.Errorf("mastodon: compacting journal: %w", err)
	}
	return syncDir(filepath.Dir(j.path))
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
			return fmt.Errorf("mastodon: writing journal %s: %w", j.path, err)
		}
		_, werr := f.Write(append(line, '\n'))
		serr := f.Sync()
		cerr := f.Close()
		for _, err := range []error{werr, serr, cerr} {
			if err != nil {
				return fmt.Errorf("mastodon: writing journal %s: %w", j.path, err)
			}
		}
	}
	j.attempts[a.Key] = &a
	return nil
}

// publishedIDs lists the status ids of all receipts, so an in-flight attempt is never matched
// to a status another key already owns (two posts may well have the same text).
func (j *journal) publishedIDs() map[string]bool {
	ids := map[string]bool{}
	for _, a := range j.attempts {
		if a.Receipt != nil {
			ids[a.Receipt.RemoteID] = true
		}
	}
	return ids
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

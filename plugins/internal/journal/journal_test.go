package journal_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/internal/journal"
	"github.com/tact-hq/tact/plugins/sdk"
)

// sent is a plugin's record: the shared attempt and what this network's Lookup needs.
type sent struct {
	journal.Attempt
	Hash string `json:"hash"`
}

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func open(t *testing.T, path string, at time.Time) *journal.Journal[sent] {
	t.Helper()
	j, err := journal.Open[sent](path, at, journal.Options{Plugin: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func rec(key string, at time.Time) sent {
	return sent{Attempt: journal.Attempt{Key: key, Sending: at}, Hash: "h-" + key}
}

func TestReopenedJournalKnowsEveryOutcome(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "test.jsonl")
	j := open(t, path, now)
	if j.InMemory() {
		t.Fatal("a journal with a file says it is in memory")
	}
	for _, k := range []string{"published", "in-flight", "refused"} {
		if err := j.Append(rec(k, now)); err != nil {
			t.Fatal(err)
		}
	}
	p := rec("published", now)
	p.Receipt = &sdk.Receipt{RemoteID: "post-1", URL: "https://example.test/1"}
	r := rec("refused", now)
	r.Refused = true
	for _, x := range []sent{p, r} {
		if err := j.Append(x); err != nil {
			t.Fatal(err)
		}
	}

	// What a process started after a crash reads: the lines were synced by Append.
	again := open(t, path, now.Add(time.Hour))
	if got := again.Get("published"); got == nil || got.Receipt == nil || got.Receipt.RemoteID != "post-1" || got.Hash != "h-published" {
		t.Errorf("published = %+v, want its receipt and hash", got)
	}
	if got := again.Get("in-flight"); got == nil || !got.InFlight() || !got.Sending.Equal(now) {
		t.Errorf("in-flight = %+v, want in flight since %s", got, now)
	}
	if got := again.Get("refused"); got == nil || got.InFlight() || !got.Refused {
		t.Errorf("refused = %+v, want refused", got)
	}
	if got := again.Get("never-sent"); got != nil {
		t.Errorf("never-sent = %+v, want nil", got)
	}
	if got := again.Owner("post-1"); got != "published" {
		t.Errorf("Owner(post-1) = %q, want published", got)
	}
	if got := again.Owner("post-2"); got != "" {
		t.Errorf("Owner(post-2) = %q, want none", got)
	}
	// Compacted at open: one line per key.
	if n := lines(t, path); n != 3 {
		t.Errorf("the reopened file has %d lines, want 3 (one per key)", n)
	}
}

func TestTornLastLineIsSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.jsonl")
	j := open(t, path, now)
	if err := j.Append(rec("whole", now)); err != nil {
		t.Fatal(err)
	}
	line, _ := json.Marshal(rec("torn", now))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(line[:len(line)/2]) // a crash in mid-write
	f.Close()

	again := open(t, path, now)
	if again.Get("whole") == nil {
		t.Error("the whole line before the torn one was lost")
	}
	if got := again.Get("torn"); got != nil {
		t.Errorf("torn = %+v: a torn line was never sent and must read as absent", got)
	}
	if err := again.Append(rec("after", now)); err != nil {
		t.Fatal(err)
	}
	if open(t, path, now).Get("after") == nil {
		t.Error("a line appended after the torn one is lost")
	}
}

func TestOldAttemptsAreForgottenAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.jsonl")
	j := open(t, path, now)
	j.Append(rec("old", now))
	j.Append(rec("recent", now.Add(20*24*time.Hour)))
	again := open(t, path, now.Add(journal.Retention+time.Hour))
	if again.Get("old") != nil {
		t.Error("an attempt older than Retention is still remembered")
	}
	if again.Get("recent") == nil {
		t.Error("a recent attempt was forgotten")
	}
	if n := lines(t, path); n != 1 {
		t.Errorf("the file has %d lines, want 1", n)
	}
}

func TestFileAndDirectoryAreOwnersOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "test.jsonl")
	j := open(t, path, now)
	if err := j.Append(rec("k", now)); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700 | os.ModeDir} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", p, fi.Mode(), want)
		}
	}
	// A file made by Append (no compaction yet) is 0600 too.
	os.Remove(path)
	if err := j.Append(rec("k2", now)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode() != 0o600 {
		t.Errorf("the appended file: %v, %v, want mode 0600", fi.Mode(), err)
	}
}

func TestConcurrentAppendsAllSurvive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.jsonl")
	j := open(t, path, now)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := j.Append(rec(fmt.Sprint("k", i), now)); err != nil {
				t.Error(err)
			}
			j.Get(fmt.Sprint("k", i))
			j.Owner("none")
		})
	}
	wg.Wait()
	again := open(t, path, now)
	for i := range n {
		if again.Get(fmt.Sprint("k", i)) == nil {
			t.Errorf("k%d was appended but is not in the reopened journal", i)
		}
	}
}

func TestKeepAndForgetTouchMemoryOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.jsonl")
	j := open(t, path, now)
	j.Append(rec("forgotten", now))
	j.Forget("forgotten")
	if j.Get("forgotten") != nil {
		t.Error("Forget left the key in memory")
	}
	j.Keep(rec("kept", now))
	if j.Get("kept") == nil {
		t.Error("Keep did not remember the key")
	}
	again := open(t, path, now)
	if again.Get("kept") != nil {
		t.Error("Keep wrote to the file")
	}
	if again.Get("forgotten") == nil {
		t.Error("Forget removed the key from the file")
	}
}

func TestGetReturnsACopy(t *testing.T) {
	j := journal.Memory[sent]()
	if !j.InMemory() {
		t.Fatal("Memory's journal says it has a file")
	}
	j.Append(rec("k", now))
	j.Get("k").Hash = "changed"
	if got := j.Get("k").Hash; got != "h-k" {
		t.Errorf("Hash = %q after changing a copy, want h-k", got)
	}
}

func TestLinesStayFlatJSON(t *testing.T) {
	// The plugins' files predate this package: a line is one flat object.
	path := filepath.Join(t.TempDir(), "test.jsonl")
	j := open(t, path, now)
	j.Append(rec("k", now))
	b, _ := os.ReadFile(path)
	var m map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(b), &m); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"key", "sending", "hash"} {
		if _, ok := m[f]; !ok {
			t.Errorf("line %s has no %q", b, f)
		}
	}
	if _, ok := m["receipt"]; ok {
		t.Errorf("line %s has a receipt before any answer", b)
	}
}

func TestUnwritableStateDirSaysWhatToDo(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	_, err := journal.Open[sent](filepath.Join(file, "test.jsonl"), now, journal.Options{Plugin: "test", Noun: "the journal"})
	if err == nil || !strings.HasPrefix(err.Error(), "test: creating state_dir: ") || !strings.Contains(err.Error(), "set state_dir to a directory the daemon can write") {
		t.Errorf("error = %v", err)
	}
}

func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

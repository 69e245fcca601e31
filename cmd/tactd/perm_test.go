package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDataDirIsPrivate is issue 10's "tact.db is created 0644 when the data dir already
// exists": with a umask of 0, a data dir made by someone else (0755) and an admin.token
// and a session.key left 0644, every file tactd keeps in the data dir is 0600 and every
// directory it makes 0700, and the open data dir is reported in the log.
func TestDataDirIsPrivate(t *testing.T) {
	old := syscall.Umask(0) // tactd inherits it
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"admin.token", "session.key"} {
		// A token from an earlier database, a valid key: both are kept in use, and narrowed.
		if err := os.WriteFile(filepath.Join(data, name), []byte(strings.Repeat("k", 40)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := startDaemon(t, dir, outboxConfig)
	d.ctl(t, "campaign", "create", "spring", "--account", "brand", "--topic", "gardening") // a write: -wal and -shm exist

	seen := map[string]bool{}
	err := filepath.WalkDir(data, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(data, path)
		seen[rel] = true
		switch {
		case path == data:
		case e.IsDir() && fi.Mode().Perm() != 0o700:
			t.Errorf("directory %s has mode %04o, want 0700", rel, fi.Mode().Perm())
		case !e.IsDir() && fi.Mode().Perm() != 0o600:
			t.Errorf("file %s has mode %04o, want 0600", rel, fi.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tact.db", "tact.db-wal", "tact.db-shm", "admin.token", "session.key"} {
		if !seen[want] {
			t.Errorf("no %s in the data dir (found %v)", want, seen)
		}
	}
	if !strings.Contains(d.logs.String(), "data_dir is open to other users") {
		t.Errorf("the log does not say that the data dir is open to others:\n%s", d.logs)
	}
}

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// withUmask sets the process umask for the test (it is process-wide: these tests do not
// run in parallel).
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// wantPrivate fails unless each of the database's files exists with mode 0600.
func wantPrivate(t *testing.T, path string) {
	t.Helper()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", filepath.Base(p), m)
		}
	}
}

// TestDatabaseFilesArePrivate is issue 10's "tact.db is created 0644 when the data dir
// already exists": whatever the umask, in a directory others may enter, the database and
// its -wal and -shm files are the owner's only.
func TestDatabaseFilesArePrivate(t *testing.T) {
	for _, mask := range []int{0, 0o022} {
		withUmask(t, mask)
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o755); err != nil { // an existing data dir, made by someone else
			t.Fatal(err)
		}
		path := filepath.Join(dir, "tact.db")
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		must(t, db.CreateCampaign(context.Background(), ann, &queue.Campaign{Name: "c", Accounts: []string{"a"}}))
		wantPrivate(t, path)
		db.Close()
	}
}

// TestOpenNarrowsAWiderDatabase: files an older tact left 0644 (or a restored backup) are
// made 0600 when the database is opened.
func TestOpenNarrowsAWiderDatabase(t *testing.T) {
	withUmask(t, 0)
	path := filepath.Join(t.TempDir(), "tact.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	must(t, db.CreateCampaign(context.Background(), ann, &queue.Campaign{Name: "c", Accounts: []string{"a"}}))
	db.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644) // the database is kept, the others are empty
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err = sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CampaignByName(context.Background(), "c"); err != nil {
		t.Fatalf("the database was not kept: %v", err)
	}
	wantPrivate(t, path)
}

package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/tact-hq/tact/daemon/queue"
)

// private makes the database file, and the -wal and -shm files SQLite keeps beside it,
// readable and writable by tact's user only (0600), whatever the umask and whoever made
// the directory: they hold token hashes, posts not yet published and the audit log.
// SQLite creates a new database 0644 (less the umask) and gives its -wal and -shm files
// the database file's mode, so creating the file 0600 before SQLite opens it covers all
// three; files left wider by an older tact, or copied in from a backup, are narrowed.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return &queue.Error{Kind: queue.Unavailable, Err: err, Message: fmt.Sprintf(
			"cannot open or create the database %s: check that its directory exists and that tact's user may write there", path)}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && fi.Mode().Perm() == 0o600 {
			continue
		}
		if err == nil {
			err = os.Chmod(p, 0o600)
		}
		if err != nil {
			return &queue.Error{Kind: queue.Unavailable, Err: err, Message: fmt.Sprintf(
				"cannot make %s readable by tact's user only (mode 0600): run tactd as the file's owner, or chmod 600 it", p)}
		}
	}
	return nil
}

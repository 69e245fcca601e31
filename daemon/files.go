package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// The data dir holds secrets (admin.token, session.key), token hashes and posts not yet
// published (tact.db, whose modes daemon/sqlite keeps): every file tact writes there is
// its user's only (0600) and every directory it makes 0700, whatever the umask, and
// whether the files or the directory were there before (docs/operations.md, "Data and
// backups").

// writePrivate replaces path with data, mode 0600. os.WriteFile keeps the mode of a file
// that exists, so a token written over an old 0644 file stayed readable by everyone; a
// new file renamed over the old one is 0600, and a crash leaves the old one or the new.
func writePrivate(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*") // 0600
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // after the rename there is nothing left to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// keepPrivate narrows path to 0600 if it exists with a wider mode (left so by an older
// tact, or copied in by a person).
func keepPrivate(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil && fi.Mode().Perm() == 0o600 {
		return nil
	}
	if err == nil {
		err = os.Chmod(path, 0o600)
	}
	if err != nil {
		return fmt.Errorf("cannot make %s readable by tact's user only (mode 0600): %w (run tactd as the file's owner, or chmod 600 it)", path, err)
	}
	return nil
}

// privateDataDir makes dir (0700) if it is missing, narrows the files tact keeps in it to
// 0600, and warns when the directory itself is open to other users: it may be shared on
// purpose (a backup group), so it is not changed, but the files in it are not for them.
func privateDataDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create data_dir %s: %w (create it, or set [daemon] data_dir to a writable directory)", dir, err)
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("data_dir is open to other users; tact keeps its files there readable by its own user only, but chmod 700 the directory unless it is shared on purpose",
			"data_dir", dir, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	for _, name := range []string{"admin.token", "session.key"} {
		if err := keepPrivate(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

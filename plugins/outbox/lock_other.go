//go:build !unix

package outbox

import "os"

// Without flock, only one process may use a given outbox file at a time.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}

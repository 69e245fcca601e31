package host

import (
	"os/exec"
	"syscall"
)

// dieWithParent asks the kernel to kill the plugin process when the daemon dies, even by
// SIGKILL, so that a crashed daemon leaves no orphan holding an account's files.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

//go:build !linux

package host

import "os/exec"

// dieWithParent has no kernel help outside Linux; plugins/sdk's Serve notices the lost
// parent and exits by itself.
func dieWithParent(*exec.Cmd) {}

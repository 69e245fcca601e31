//go:build unix

package rules

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used: benchmarks report it next to wall
// time, because on a shared machine wall time also counts other people's work.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build !unix

package rules

import "time"

// processCPU is not measured on this platform; benchmarks then report wall time only.
func processCPU() time.Duration { return 0 }

package conformance

import (
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// Build compiles the Go package pkg, a plugin's main package, and returns the path of the
// binary, in a directory removed when the test ends. pkg is what `go build` takes: an
// import path (github.com/you/x/cmd/tact-plugin-x) or a directory relative to the test's
// package (./cmd/tact-plugin-x). The binary is named after pkg's last element, with the
// tact-plugin- prefix the daemon looks for added when it lacks one. A failed build fails
// the test with the compiler's output.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	name := path.Base(filepath.ToSlash(pkg))
	if !strings.HasPrefix(name, "tact-plugin-") {
		name = "tact-plugin-" + name
	}
	out := filepath.Join(tb.TempDir(), name)
	if output, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkg, err, output)
	}
	return out
}

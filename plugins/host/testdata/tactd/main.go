// Command tactd is a stand-in for the daemon's binary in plugins/host tests: it serves
// the built-ins as `tactd plugin <name>`, exactly as the real tactd does.
package main

import (
	"fmt"
	"os"

	"github.com/tact-hq/tact/plugins/builtin"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "plugin" {
		fmt.Fprintln(os.Stderr, "usage: tactd plugin NAME")
		os.Exit(2)
	}
	if err := builtin.Serve(os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Command tact-loadgen is tact's performance suite: it fills a data directory with a large
// brand's queue (SPEC 9: 100,000 queued posts, 1,000 rules, 100 feeds, 100 accounts) through
// the daemon's own store, then runs the real tactd binary on it and measures, next to a
// baseline of the same daemon on an empty data directory: cold start to ready, publish
// lateness, API latency under a fixed request rate, and resident memory.
//
//	tact-loadgen fill --data DIR [--posts 100000 --campaigns 1000 --rules 1000]
//	tact-loadgen run  --data DIR --tactd PATH
//
// Everything runs on loopback and stops by itself; docs/performance.md explains the table.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

var errUsage = errors.New("usage")

const usage = `usage:
  tact-loadgen fill --data DIR [--posts 100000 --campaigns 1000 --rules 1000 --accounts 100 --feeds 100 --approve 0.1]
  tact-loadgen run  --data DIR --tactd PATH [--rate 200 --duration 20s --interval 5s --rounds 6 --incidents 10 --quiet-wait 3m --keep]
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "fill":
		err = fillCmd(ctx, args[1:], stdout, stderr)
	case "run":
		err = runCmd(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		if err != errUsage {
			fmt.Fprintln(stderr, "tact-loadgen:", err)
		}
		fmt.Fprint(stderr, usage)
		return 2
	default:
		fmt.Fprintln(stderr, "tact-loadgen:", err)
		return 1
	}
}

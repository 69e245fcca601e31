// Command tactd is the tact daemon. See `tactd --help`; signals are documented in
// daemon/signals.go.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon"
	"github.com/tact-hq/tact/plugins/builtin"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	// `tactd plugin NAME` serves a built-in plugin: the daemon re-executes itself this way
	// so that one binary is enough to deploy.
	if len(args) >= 1 && args[0] == "plugin" {
		if len(args) != 2 {
			fmt.Fprintf(stderr, "usage: tactd plugin NAME (built-ins: %v)\n", builtin.Names())
			return 2
		}
		if err := builtin.Serve(args[1]); err != nil {
			fmt.Fprintln(stderr, "tactd plugin:", err)
			return 1
		}
		return 0
	}

	fl := flag.NewFlagSet("tactd", flag.ContinueOnError)
	fl.SetOutput(stderr)
	configPath := fl.String("config", "/etc/tact/tact.toml", "path of tact.toml")
	demo := fl.Bool("demo", false, "run the self-contained demo (temporary data, outbox plugin, default rules, demo news)")
	listen := fl.String("listen", "", "override [daemon] listen (host:port)")
	newsAfter := fl.Duration("demo-news-after", time.Minute, "with --demo: when the demo feed gains its crash headline")
	check := fl.Bool("check", false, "validate the configuration and the rules, then exit")
	version := fl.Bool("version", false, "print the version and exit")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: tactd [--config FILE] [--check] | tactd --demo | tactd plugin NAME")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "tactd: unexpected argument %q; see tactd --help\n", fl.Arg(0))
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, "tactd", daemon.Version)
		return 0
	}

	var (
		cfg *config.Config
		dm  *daemon.Demo
		err error
	)
	if *demo {
		addr := *listen
		if addr == "" {
			addr = config.DefaultListen
		}
		cfg, dm, err = daemon.NewDemo(addr, *newsAfter)
	} else {
		cfg, err = config.Load(*configPath)
		if err == nil && *listen != "" {
			cfg.Daemon.Listen = *listen
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "tactd:", err)
		return 1
	}
	if *check {
		if err := daemon.Check(cfg); err != nil {
			fmt.Fprintln(stderr, "tactd:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: configuration and rules are valid\n", cfg.Path)
		return 0
	}

	level := new(slog.LevelVar)
	logger := newLogger(stderr, level)
	d := &daemon.Daemon{Config: cfg, Logger: logger, LogLevel: level, Stdout: stdout, Demo: dm}
	ctx, hup, stop := daemon.NotifyContext(context.Background())
	defer stop()
	if err := d.Run(ctx, hup); err != nil {
		logger.Error("tactd stopped on an error", "err", err)
		fmt.Fprintln(stderr, "tactd:", err)
		return 1
	}
	return 0
}

// newLogger logs text to a terminal and JSON otherwise (journald, files, collectors).
func newLogger(w io.Writer, level *slog.LevelVar) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

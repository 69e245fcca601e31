// Command tactctl is tact's command-line client: it talks to the daemon's HTTP API and runs
// the offline rule tools. Each command lives in its own file and registers itself in init.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// App is what every command gets: where to write, and how to reach the daemon.
type App struct {
	Stdout io.Writer
	Stderr io.Writer
	// Server and Token come from --server/TACT_SERVER and --token/TACT_TOKEN.
	Server string
	Token  string
	// JSON is --json: print machine-readable output instead of tables.
	JSON bool
}

// command is one top-level tactctl command.
type command struct {
	summary string
	run     func(ctx context.Context, app *App, args []string) error
}

var commands = map[string]command{}

// register adds a top-level command; called from init in each command's file.
func register(name, summary string, run func(ctx context.Context, app *App, args []string) error) {
	if _, dup := commands[name]; dup {
		panic("tactctl: command registered twice: " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

// exitError carries an exit status without printing anything more (the command printed).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses the global flags, finds the command and runs it; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := &App{Stdout: stdout, Stderr: stderr, Server: os.Getenv("TACT_SERVER"), Token: os.Getenv("TACT_TOKEN")}
	if app.Server == "" {
		app.Server = "http://127.0.0.1:8080"
	}
	args, err := app.globalFlags(args)
	if err != nil {
		fmt.Fprintln(stderr, "tactctl:", err)
		return 2
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "tactctl: unknown command %q; run 'tactctl help' for the list\n", args[0])
		return 2
	}
	if err := cmd.run(ctx, app, args[1:]); err != nil {
		if ee, ok := err.(exitError); ok {
			return ee.code
		}
		fmt.Fprintln(stderr, "tactctl:", err)
		return 1
	}
	return 0
}

// globalFlags takes --server, --token and --json wherever they appear, so that
// `tactctl queue --json` and `tactctl --json queue` both work, and returns the rest.
func (a *App) globalFlags(args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--json" || arg == "-json":
			a.JSON = true
		case arg == "--server" || arg == "--token":
			if i+1 >= len(args) {
				return nil, fmt.Errorf("%s needs a value", arg)
			}
			if arg == "--server" {
				a.Server = args[i+1]
			} else {
				a.Token = args[i+1]
			}
			i++
		case len(arg) > 9 && arg[:9] == "--server=":
			a.Server = arg[9:]
		case len(arg) > 8 && arg[:8] == "--token=":
			a.Token = arg[8:]
		default:
			rest = append(rest, arg)
		}
	}
	return rest, nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "tactctl: the tact command-line client")
	fmt.Fprintln(w, "\nusage: tactctl [--server URL] [--token TOKEN] [--json] COMMAND ...")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nThe server comes from --server or TACT_SERVER (default http://127.0.0.1:8080),")
	fmt.Fprintln(w, "the token from --token or TACT_TOKEN.")
}

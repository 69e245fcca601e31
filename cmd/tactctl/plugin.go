package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tact-hq/tact/plugins/sdk/conformance"
)

func init() {
	register("plugin", "list the daemon's plugins, or check a plugin binary with the conformance kit", pluginCmd)
}

const pluginUsage = `plugin list
       tactctl plugin check BINARY [--setting KEY=VALUE]... [--timeout 30s] [--verbose]`

func pluginCmd(ctx context.Context, a *App, args []string) error {
	if len(args) == 0 {
		return usageError(a.flags("plugin", pluginUsage), "missing subcommand: list or check")
	}
	switch args[0] {
	case "list":
		return pluginList(ctx, a, args[1:])
	case "check":
		return pluginCheck(ctx, a, args[1:])
	}
	return usageError(a.flags("plugin", pluginUsage), "unknown subcommand %q: use list or check", args[0])
}

// pluginList shows the plugins the daemon runs (GET /api/v1/plugins).
func pluginList(ctx context.Context, a *App, args []string) error {
	fs := a.flags("plugin list", "plugin list")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fs, "unexpected arguments %q", rest)
	}
	raw, err := a.get(ctx, "/api/v1/plugins")
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(raw)
	}
	var answer struct {
		Items []struct {
			Name     string   `json:"name"`
			Version  string   `json:"version"`
			Accounts []string `json:"accounts"`
			Healthy  bool     `json:"healthy"`
		} `json:"items"`
	}
	if err := decode(raw, &answer); err != nil {
		return err
	}
	t := newTable(a.Stdout, "PLUGIN", "VERSION", "HEALTHY", "ACCOUNTS")
	for _, p := range answer.Items {
		healthy := "yes"
		if !p.Healthy {
			healthy = "no"
		}
		t.row(p.Name, orDash(p.Version), healthy, orDash(strings.Join(p.Accounts, ", ")))
	}
	return t.flush()
}

// settingsFlag is a repeatable --setting KEY=VALUE.
type settingsFlag map[string]string

func (s settingsFlag) String() string { return fmt.Sprint(len(s)) + " settings" }

func (s settingsFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	if _, dup := s[k]; dup {
		return fmt.Errorf("setting %q given twice", k)
	}
	s[k] = val
	return nil
}

// pluginCheck runs the conformance kit against a plugin binary, through the same
// process management the daemon uses.
func pluginCheck(ctx context.Context, a *App, args []string) error {
	fs := a.flags("plugin check", "plugin check BINARY [--setting KEY=VALUE]... [--timeout 30s] [--verbose]\n\n"+
		"Runs the conformance checks: the plugin publishes, looks up and deletes a post on\n"+
		"whatever its settings point at, so point it at a fake or a test account.\n"+
		"A value written env:NAME or file:PATH is read from the environment or a file.")
	settings := settingsFlag{}
	fs.Var(settings, "setting", "a setting handed to Configure, KEY=VALUE (repeatable)")
	timeout := fs.Duration("timeout", 30*time.Second, "deadline of each plugin call")
	verbose := fs.Bool("verbose", false, "show the plugin's log output on stderr")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "give exactly one plugin BINARY (got %d arguments)", len(rest))
	}
	bin, err := pluginBinary(rest[0])
	if err != nil {
		return err
	}
	resolved, err := resolveSettings(settings)
	if err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	results := conformance.Check(ctx, conformance.Config{Binary: bin, Settings: resolved, Timeout: *timeout, Logger: logger})
	if a.JSON {
		if err := a.printJSONValue(results); err != nil {
			return err
		}
	} else {
		t := newTable(a.Stdout, "CHECK", "RESULT", "DETAIL")
		var passed, failed, skipped int
		for _, r := range results {
			res := "ok"
			switch {
			case r.Skipped:
				res, skipped = "skipped", skipped+1
			case !r.OK:
				res, failed = "FAILED", failed+1
			default:
				passed++
			}
			t.row(r.Name, res, r.Detail)
		}
		if err := t.flush(); err != nil {
			return err
		}
		fmt.Fprintf(a.Stdout, "\n%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	}
	if conformance.Failed(results) {
		return exitError{1}
	}
	return nil
}

// pluginBinary finds BINARY: a path, or a name on PATH.
func pluginBinary(name string) (string, error) {
	if strings.ContainsRune(name, filepath.Separator) {
		st, err := os.Stat(name)
		if err != nil {
			return "", fmt.Errorf("plugin binary %s: %w", name, err)
		}
		if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("plugin binary %s is not an executable file (build it with go build, or chmod +x it)", name)
		}
		return filepath.Abs(name)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("plugin binary %q: not found on PATH; give its path, e.g. ./%s", name, name)
	}
	return p, nil
}

// resolveSettings reads env:NAME and file:PATH values, so secrets need not appear on the
// command line.
func resolveSettings(s settingsFlag) (map[string]string, error) {
	out := make(map[string]string, len(s))
	for k, v := range s {
		switch {
		case strings.HasPrefix(v, "env:"):
			val, ok := os.LookupEnv(v[len("env:"):])
			if !ok {
				return nil, fmt.Errorf("setting %s: environment variable %s is not set", k, v[len("env:"):])
			}
			out[k] = val
		case strings.HasPrefix(v, "file:"):
			b, err := os.ReadFile(v[len("file:"):])
			if err != nil {
				return nil, fmt.Errorf("setting %s: %w", k, err)
			}
			out[k] = strings.TrimRight(string(b), "\r\n")
		default:
			out[k] = v
		}
	}
	return out, nil
}

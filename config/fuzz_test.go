package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzConfig feeds arbitrary bytes to Parse as tact.toml. It must never panic; a refused
// file gives Errors whose every problem names the file and a line inside it; an accepted
// file has every default filled in.
func FuzzConfig(f *testing.F) {
	f.Add([]byte("[daemon]\ndata_dir = \"/var/lib/tact\"\nlisten = \"127.0.0.1:8080\"\n"))
	f.Add([]byte("[daemon]\nlisten_addr = \"127.0.0.1:1\"\n"))
	f.Add([]byte("[[account]]\nname = \"a\"\nplugin = \"outbox\"\nspacing = \"1ms\"\n[account.settings]\npath = \"/tmp/o\"\n[[account]]\nname = \"a\"\n"))
	f.Add([]byte("[[feed]]\nname = \"f\"\nurl = \"ftp://x\"\nevery = \"10ms\"\n[[notify]]\nkind = \"sms\"\nurl = \"env:TACT_FUZZ_UNSET\"\n"))
	f.Add([]byte("[daemon\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// file: secrets read files: an arbitrary path could be a FIFO or a device that never
		// ends. Reading secrets is Resolve's job, tested on its own.
		if bytes.Contains(data, []byte("file:")) {
			t.Skip()
		}
		const name = "tact.toml"
		c, err := Parse(name, data)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned a config and an error: %v", err)
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Parse error is %T (%v), want a non-empty Errors", err, err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, p := range errs {
				if p.File != name || p.Message == "" {
					t.Fatalf("problem without file or message: %+v", p)
				}
				if p.Line < 1 || p.Line > lines {
					t.Fatalf("problem %q has line %d; the file has %d lines", p.String(), p.Line, lines)
				}
				if !strings.HasPrefix(p.String(), name+":") {
					t.Fatalf("problem %q does not start with FILE:LINE", p.String())
				}
			}
			return
		}
		d := c.Daemon
		if d.DataDir == "" || d.Listen == "" || d.TimeZone == "" || d.LogLevel == "" || d.Late.Duration <= 0 || d.ShutdownGrace.Duration <= 0 {
			t.Fatalf("accepted config misses defaults: %+v", d)
		}
		for _, a := range c.Accounts {
			if a.Name == "" || a.Plugin == "" || a.Concurrency < 1 || a.Spacing.Duration <= 0 && a.Spacing.Duration != 0 {
				t.Fatalf("accepted account is invalid: %+v", a)
			}
		}
		for _, fd := range c.Feeds {
			if fd.Name == "" || fd.Every.Duration < 1e9 || fd.Timeout.Duration <= 0 {
				t.Fatalf("accepted feed is invalid: %+v", fd)
			}
		}
	})
}

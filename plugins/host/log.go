package host

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// hclogSlog is an hclog.Logger that writes to an *slog.Logger, so go-plugin's own messages
// and the log lines a plugin writes reach the daemon's log at their level, with the
// account attached by the caller (l.With("account", …)).
type hclogSlog struct {
	l       *slog.Logger
	name    string
	implied []any
	// stderrName is the sub-logger go-plugin uses for the plugin process's stderr (the
	// binary's base name). A line there without attributes is raw text the plugin wrote
	// to stderr (JSON log lines always carry a timestamp); go-plugin files it under
	// debug, we raise it to info so a plugin's complaints are seen.
	stderrName string
}

func newHCLog(l *slog.Logger, stderrName string) hclog.Logger {
	return &hclogSlog{l: l, stderrName: stderrName}
}

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (h *hclogSlog) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	lvl := slogLevel(level)
	if h.stderrName != "" && h.name == h.stderrName && len(args) == 0 && len(h.implied) == 0 && level == hclog.Debug {
		lvl = slog.LevelInfo
		args = []any{"stream", "stderr"}
	}
	if !h.l.Enabled(context.Background(), lvl) {
		return
	}
	all := make([]any, 0, len(h.implied)+len(args))
	all = append(all, h.implied...)
	all = append(all, dropKeys(args)...)
	h.l.Log(context.Background(), lvl, msg, all...)
}

// dropKeys removes pairs that only repeat what the daemon's own log already records
// (go-plugin adds the plugin's timestamp; hclog adds its module name).
func dropKeys(args []any) []any {
	out := args[:0:0]
	for i := 0; i < len(args); i += 2 {
		if i+1 < len(args) {
			if k, ok := args[i].(string); ok && (k == "timestamp" || k == "@module") {
				continue
			}
			out = append(out, args[i], args[i+1])
			continue
		}
		out = append(out, args[i])
	}
	return out
}

func (h *hclogSlog) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hclogSlog) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hclogSlog) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hclogSlog) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hclogSlog) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hclogSlog) enabled(l hclog.Level) bool {
	return h.l.Enabled(context.Background(), slogLevel(l))
}

func (h *hclogSlog) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *hclogSlog) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *hclogSlog) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *hclogSlog) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *hclogSlog) IsError() bool { return h.enabled(hclog.Error) }

func (h *hclogSlog) ImpliedArgs() []any { return h.implied }

func (h *hclogSlog) With(args ...any) hclog.Logger {
	c := *h
	c.implied = append(append([]any(nil), h.implied...), args...)
	return &c
}

func (h *hclogSlog) Name() string { return h.name }

func (h *hclogSlog) Named(name string) hclog.Logger {
	c := *h
	if c.name != "" {
		c.name += "." + name
	} else {
		c.name = name
	}
	return &c
}

func (h *hclogSlog) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

// SetLevel does nothing: the daemon's slog handler decides what is logged.
func (h *hclogSlog) SetLevel(hclog.Level) {}

// GetLevel reports the lowest level the slog handler lets through; go-plugin skips
// parsing plugin output below it.
func (h *hclogSlog) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if h.enabled(l) {
			return l
		}
	}
	return hclog.Off
}

func (h *hclogSlog) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(h.l.Handler(), slog.LevelInfo)
}

func (h *hclogSlog) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return h.StandardLogger(opts).Writer()
}

// lineLogger logs each line written to it at info, with stream=name. It receives what the
// plugin writes to its os.Stdout and os.Stderr (go-plugin forwards them over gRPC).
type lineLogger struct {
	l      *slog.Logger
	stream string

	mu  sync.Mutex
	buf []byte
}

// maxLine bounds a line kept waiting for its newline.
const maxLine = 64 << 10

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		w.emit(w.buf)
		w.buf = nil
	}
	return len(p), nil
}

func (w *lineLogger) emit(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if len(line) == 0 {
		return
	}
	w.l.Info(string(line), "stream", w.stream)
}

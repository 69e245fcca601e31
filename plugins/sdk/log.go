package sdk

import (
	"io"
	"log/slog"
	"strings"
)

// hclogTimeFormat is the timestamp layout go-plugin's host parses in plugin log lines.
const hclogTimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// newLogHandler writes slog records as the JSON lines go-plugin's host understands
// (@level, @message, @timestamp, then the attributes), so a plugin's slog calls reach the
// daemon's log at their own level with their attributes intact.
func newLogHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format(hclogTimeFormat))
			case slog.LevelKey:
				lvl, _ := a.Value.Any().(slog.Level)
				return slog.String("@level", hclogLevel(lvl))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	})
}

// hclogLevel names an slog level the way hclog does.
func hclogLevel(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	default:
		return strings.ToLower(slog.LevelError.String())
	}
}

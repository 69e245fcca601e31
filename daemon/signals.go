package daemon

// Signals tactd understands (this file is the one place that documents them):
//
//	SIGTERM, SIGINT  stop: no new publishes start; publishes in flight finish (bounded by
//	                 [daemon] shutdown_grace, default 8s) and are recorded; then exit 0.
//	SIGHUP           reload: re-read the rule files (also reloaded when they change) and
//	                 [daemon] log_level. On an error the previous rules stay in force and the
//	                 error is logged, audited, notified and shown in `tactctl status`. Other
//	                 changes to tact.toml are named in a warning and take effect at the next
//	                 restart.
//
// Anything else is left to the Go runtime's defaults.

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// NotifyContext returns a context cancelled on SIGTERM or SIGINT, and a channel that
// receives on SIGHUP. Call stop to release the signal handlers.
func NotifyContext(parent context.Context) (ctx context.Context, hup <-chan os.Signal, stop func()) {
	ctx, cancel := signal.NotifyContext(parent, syscall.SIGTERM, os.Interrupt)
	h := make(chan os.Signal, 1)
	signal.Notify(h, syscall.SIGHUP)
	return ctx, h, func() {
		signal.Stop(h)
		cancel()
	}
}

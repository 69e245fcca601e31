// Package daemon wires tact together and runs it: the store, the plugin processes, the
// watcher, the scheduler and publisher, the HTTP API and web UI, and their lifecycle
// (readiness, reload, graceful stop). The pieces live in the packages below it; this
// package only connects them.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon/queue"
)

// Version is the daemon's version, set at build time with -ldflags "-X …daemon.Version=…".
var Version = "0.1.0-dev"

// Daemon is one running tact. It is a value, not a process-wide singleton: tests run several.
type Daemon struct {
	Config *config.Config
	Logger *slog.Logger
	// LogLevel, when set, is adjusted on reload from [daemon] log_level.
	LogLevel *slog.LevelVar
	// Stdout receives the few lines meant for a person at a terminal (demo banner).
	Stdout io.Writer
	// Executable is the binary re-executed as `EXE plugin NAME` for built-in plugins;
	// default os.Executable().
	Executable string
	// Demo adds the demo's campaigns, posts and news (see demo.go).
	Demo *Demo

	addr     atomic.Pointer[string]
	ready    chan struct{}
	readyOne sync.Once
	started  time.Time

	reloadMu sync.Mutex
	app      *app // the running pieces, set by Run
}

// Addr returns the address the HTTP server listens on, once ready ("" before).
func (d *Daemon) Addr() string {
	if p := d.addr.Load(); p != nil {
		return *p
	}
	return ""
}

// Ready is closed once the daemon serves requests and publishes.
func (d *Daemon) Ready() <-chan struct{} {
	d.readyOne.Do(func() { d.ready = make(chan struct{}) })
	return d.ready
}

// Run starts everything and blocks until ctx is cancelled (SIGTERM/SIGINT), then stops
// gracefully: no new publishes, those in flight finish and are recorded, the HTTP server
// drains. hup delivers reload requests (SIGHUP); it may be nil.
func (d *Daemon) Run(ctx context.Context, hup <-chan os.Signal) error {
	d.Ready() // make the channel
	d.started = time.Now()
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Stdout == nil {
		d.Stdout = io.Discard
	}
	cfg := d.Config
	if err := privateDataDir(cfg.Daemon.DataDir, d.Logger); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Daemon.Listen)
	if err != nil && d.Demo != nil {
		// The demo must run on a busy machine too: any free port will do.
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w (set [daemon] listen to a free host:port)", cfg.Daemon.Listen, err)
	}
	defer ln.Close()

	a, err := d.start(ctx)
	if err != nil {
		return err
	}
	d.app = a
	defer a.close()

	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(d.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	d.addr.Store(&addr)

	token, err := d.bootstrapAdmin(ctx, a.store)
	if err != nil {
		return err
	}
	if d.Demo != nil {
		if err := d.Demo.seed(ctx, a.store, time.Now()); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		a.kick()
		d.Demo.banner(d.Stdout, addr, token)
		go d.Demo.run(ctx, d.Logger)
	}

	a.startLoops(ctx)
	close(d.ready)
	notifyReady()
	notifyStatus("serving on " + addr)
	d.Logger.Info("tactd ready", "listen", addr, "data_dir", cfg.Daemon.DataDir, "version", Version)

	for {
		select {
		case <-ctx.Done():
			notifyStopping()
			d.Logger.Info("stopping: finishing publishes in flight", "grace", cfg.Daemon.ShutdownGrace.Duration)
			shutCtx, cancel := context.WithTimeout(context.Background(), cfg.Daemon.ShutdownGrace.Duration)
			_ = srv.Shutdown(shutCtx)
			a.wait(shutCtx)
			cancel()
			d.Logger.Info("stopped")
			return nil
		case err := <-serveErr:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("http server: %w", err)
		case <-hup:
			notifyReloading()
			d.Reload(ctx)
			notifyReady()
		}
	}
}

// bootstrapAdmin creates the first admin user on a new database and writes its token to
// DATA_DIR/admin.token (mode 0600). It returns the token when it made one, or the token
// still in the file, for the demo banner.
func (d *Daemon) bootstrapAdmin(ctx context.Context, st queue.Store) (string, error) {
	path := filepath.Join(d.Config.Daemon.DataDir, "admin.token")
	users, err := st.Users(ctx)
	if err != nil {
		return "", err
	}
	if len(users) > 0 {
		b, _ := os.ReadFile(path)
		return string(trimNewline(b)), nil
	}
	token := queue.NewToken()
	if err := writePrivate(path, []byte(token+"\n")); err != nil {
		return "", err
	}
	u := &queue.User{Name: "admin", Role: queue.RoleAdmin}
	if err := st.CreateUser(ctx, queue.System("bootstrap"), u, queue.HashToken(token)); err != nil {
		return "", err
	}
	d.Logger.Info("created the first admin user; its token is in admin.token", "path", path)
	return token, nil
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

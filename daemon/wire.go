package daemon

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/connect"
	"github.com/tact-hq/tact/daemon/media"
	"github.com/tact-hq/tact/daemon/metrics"
	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/publish"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/schedule"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/daemon/watch"
	"github.com/tact-hq/tact/daemon/web"
	"github.com/tact-hq/tact/plugins/builtin"
	"github.com/tact-hq/tact/plugins/host"
	"github.com/tact-hq/tact/rules"
)

// app is the set of running pieces of one daemon.
type app struct {
	log       *slog.Logger
	store     *sqlite.DB
	media     *media.Store
	plugins   *host.Manager
	notifier  notify.Multi
	metrics   *metrics.Metrics
	rules     *watch.Rules
	watcher   *watch.Watcher
	publisher *publish.Publisher
	handler   http.Handler
	accounts  *accounts
	connect   *connect.Service

	ready     chan struct{} // closed once the loops run: /readyz answers 200
	loops     sync.WaitGroup
	closeOnce sync.Once
}

// Check validates cfg and its rule files as the daemon would at start, without starting
// (tactd --check).
func Check(cfg *config.Config) error {
	var errs []error
	if _, err := rules.LoadFiles(cfg.Daemon.Rules); err != nil {
		errs = append(errs, err)
	}
	// Resolving every account's plugin (built-in or in plugin_dir) starts no process.
	if _, err := host.New(host.Config{PluginDir: cfg.Daemon.PluginDir, Executable: "/nonexistent/check-only", Builtins: builtin.Names()}, hostAccounts(cfg, nil)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// journaling are the built-in plugins that keep a send journal in a state_dir, which the
// daemon gives them under data_dir unless tact.toml names one (docs/operations.md).
var journaling = map[string]bool{"mastodon": true, "linkedin": true, "facebook": true, "micropub": true, "x": true}

// hostAccounts are the accounts of cfg for the plugin host, with the credentials of those
// connected from tact (by account name; daemon/connect).
func hostAccounts(cfg *config.Config, creds map[string]map[string]string) []host.Account {
	var out []host.Account
	for _, a := range cfg.Accounts {
		settings := a.Settings
		if journaling[a.Plugin] && settings["state_dir"] == "" {
			// Networks without an idempotency key the plugin can rely on: the plugin's send
			// journal is what lets a restarted plugin tell whether a publish went out.
			settings = maps.Clone(settings)
			if settings == nil {
				settings = map[string]string{}
			}
			settings["state_dir"] = filepath.Join(cfg.Daemon.DataDir, "plugins", a.Name)
		}
		out = append(out, host.Account{Name: a.Name, Plugin: a.Plugin, Settings: settings, Credentials: creds[a.Name]})
	}
	return out
}

// start opens the store and builds every piece, without starting their loops. Rules that
// do not load stop the start: an invalid set never runs.
func (d *Daemon) start(ctx context.Context) (_ *app, err error) {
	cfg := d.Config
	a := &app{log: d.Logger, ready: make(chan struct{})}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	a.store, err = sqlite.Open(ctx, filepath.Join(cfg.Daemon.DataDir, "tact.db"), sqlite.WithLimits(cfg.Daemon.Limits()))
	if err != nil {
		return nil, err
	}
	a.media, err = media.Open(filepath.Join(cfg.Daemon.DataDir, "media"), cfg.Daemon.MediaMaxBytes)
	if err != nil {
		return nil, err
	}
	var fetcher api.MediaFetcher
	if cfg.Daemon.MediaFetch != "off" {
		fetcher = media.NewFetcher(a.media, media.FetchOptions{})
	}
	a.notifier, err = notify.New(cfg.Notify, d.Logger)
	if err != nil {
		return nil, err
	}
	a.rules, err = watch.NewRules(ctx, cfg.Daemon.Rules, watch.RulesOptions{Store: a.store, Notifier: a.notifier, Logger: d.Logger})
	if err != nil {
		return nil, fmt.Errorf("rules refused, the daemon does not start with an invalid rule set:\n%w", err)
	}
	// Accounts connected from tact start with their credentials, opened with secrets_key.
	creds, credErrs := connect.Load(ctx, a.store, cfg.Daemon.SecretsKeyBytes)
	for _, err := range credErrs {
		d.Logger.Error("connected account's credentials cannot be used: it publishes nothing until this is fixed", "err", err)
	}
	a.plugins, err = host.New(host.Config{
		PluginDir:  cfg.Daemon.PluginDir,
		Executable: d.Executable,
		Builtins:   builtin.Names(),
		Logger:     d.Logger,
	}, hostAccounts(cfg, creds))
	if err != nil {
		return nil, err
	}
	zone, err := time.LoadLocation(cfg.Daemon.TimeZone)
	if err != nil {
		zone = time.UTC
	}
	a.accounts = &accounts{cfg: cfg, store: a.store, plugins: a.plugins, loc: zone, now: time.Now}
	a.connect, err = connect.New(connect.Options{Store: a.store, Plugins: a.plugins, Method: a.accounts.method, Plugin: a.accounts.pluginOf,
		Key: cfg.Daemon.SecretsKeyBytes, PublicURL: cfg.Daemon.PublicURL, Clock: clock.Real{}, Logger: d.Logger})
	if err != nil {
		return nil, err
	}
	a.accounts.connect = a.connect

	a.watcher, err = watch.New(watch.Options{
		Store: a.store, Rules: a.rules, Feeds: cfg.Feeds, Notifier: a.notifier, Logger: d.Logger,
		Trends: a.accounts.trends,
	})
	if err != nil {
		return nil, err
	}
	answers := &api.AnswerCounts{}
	var sched *schedule.Scheduler // made below, read at scrape time
	a.metrics = metrics.New(metrics.Sources{Store: a.store, Feeds: a.feedStats, Rules: a.rulesStat,
		ListAnswers:    func() (uint64, uint64) { return answers.Kept.Load(), answers.Built.Load() },
		ScheduleCapped: func() int { return sched.Capped() }}, d.Logger)
	networks := &instrumented{plugins: a.plugins, m: a.metrics}
	validator := &validator{networks: networks}
	sched, err = schedule.New(schedule.Options{Store: a.store, TimeZone: cfg.Daemon.TimeZone, Limits: cfg.Daemon.Limits(),
		Validator: validator, Logger: d.Logger})
	if err != nil {
		return nil, err
	}
	limits := map[string]queue.AccountLimit{}
	for _, ac := range cfg.Accounts {
		limits[ac.Name] = queue.AccountLimit{Concurrency: ac.Concurrency, Spacing: ac.Spacing.Duration}
	}
	a.publisher, err = publish.New(publish.Options{
		Store: a.store, Networks: networks, OutcomeUnknown: host.OutcomeUnknown, Limits: limits,
		Gate: a.watcher.Gate(), Media: a.media, Notifier: a.notifier, Clock: clock.Real{}, Logger: d.Logger,
		Scheduler: sched, TimeZone: cfg.Daemon.TimeZone, Grace: cfg.Daemon.ShutdownGrace.Duration,
		Observer: a.metrics,
	})
	if err != nil {
		return nil, err
	}

	key, err := sessionKey(cfg.Daemon.DataDir)
	if err != nil {
		return nil, err
	}
	ui := web.New(web.Options{
		Store: a.store, Logger: d.Logger, Validator: validator, Accounts: a.accounts, Rules: a.rules,
		Watch: a.watcher, Warnings: a.watcher, Kicker: a.publisher, Media: a.media, DefaultTimeZone: cfg.Daemon.TimeZone,
		SessionKey: key, SecureCookies: strings.HasPrefix(cfg.Daemon.PublicURL, "https://"), Connector: a.connect,
	})
	apiHandler := api.New(api.Options{
		Store: a.store, Logger: d.Logger, Validator: validator, Accounts: a.accounts, Rules: a.rules,
		Watch: a.watcher, Warnings: a.watcher, Kicker: a.publisher,
		DefaultTimeZone: cfg.Daemon.TimeZone, DefaultLate: cfg.Daemon.Late.Duration, Version: Version, SessionUser: ui.SessionUser,
		AnswerCounts: answers, Media: a.media, MediaFetcher: fetcher, Connector: a.connect,
	})
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", apiHandler)
	mux.Handle("GET /metrics", a.metrics.Handler())
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("/", ui)
	a.handler = mux
	return a, nil
}

// startLoops starts the background parts: notifications, rule file watching, feeds and
// incidents, and the publisher (which first recovers publishes a crash left unfinished).
func (a *app) startLoops(ctx context.Context) {
	run := func(name string, f func(context.Context) error) {
		a.loops.Go(func() {
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error(name+" stopped", "err", err)
			}
		})
	}
	run("notifier", a.notifier.Run)
	run("rule file watcher", a.rules.Watch)
	run("watcher", a.watcher.Run)
	run("publisher", a.publisher.Run)
	run("token refresher", a.connect.Run)
	close(a.ready)
}

func (a *app) kick() { a.publisher.Kick() }

// wait waits for the loops to stop, at most until ctx ends.
func (a *app) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { a.loops.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		a.log.Warn("some loops did not stop within the shutdown grace")
	}
}

func (a *app) close() {
	a.closeOnce.Do(func() {
		if a.plugins != nil {
			_ = a.plugins.Close()
		}
		if a.store != nil {
			_ = a.store.Close()
		}
	})
}

func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 once the daemon publishes and its database answers.
func (a *app) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	select {
	case <-a.ready:
	default:
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := a.store.CountPosts(ctx); err != nil {
		http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (a *app) feedStats() []metrics.FeedStat {
	var out []metrics.FeedStat
	for _, f := range a.watcher.FeedStatus() {
		out = append(out, metrics.FeedStat{Name: f.Name, Polls: f.Polls, NotModified: f.NotMod, Items: f.Items,
			ConsecutiveFailures: f.Failures, LastOK: f.LastOK})
	}
	return out
}

func (a *app) rulesStat() metrics.RulesStat {
	st := a.rules.Status()
	ok, bad := a.rules.ReloadCounts()
	return metrics.RulesStat{Loaded: len(st.Rules), LastReloadOK: st.LastReloadError == "", ReloadsOK: ok, ReloadsFailed: bad}
}

// sessionKey returns the web UI's cookie signing key, kept in DATA_DIR/session.key so
// that people stay logged in across restarts.
func sessionKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, "session.key")
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := writePrivate(path, b); err != nil {
		return nil, err
	}
	return b, nil
}

// Reload applies what can change while running: the rule files and log_level. Other
// changes to tact.toml need a restart; they are logged as such.
func (d *Daemon) Reload(ctx context.Context) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	a := d.app
	if a == nil {
		return
	}
	if d.Config.Path != "" {
		cfg, err := config.Load(d.Config.Path)
		if err != nil {
			d.Logger.Error("reload: tact.toml refused; the running configuration stays in force", "err", err)
		} else {
			if d.LogLevel != nil {
				_ = d.LogLevel.UnmarshalText([]byte(cfg.Daemon.LogLevel))
			}
			if changed := restartOnly(d.Config, cfg); len(changed) > 0 {
				d.Logger.Warn("reload: these changes take effect at the next restart", "changed", changed)
			}
		}
	}
	if err := a.rules.Reload(ctx); err != nil {
		d.Logger.Error("reload: rules refused; the previous rules stay in force", "err", err)
		return
	}
	d.Logger.Info("reloaded", "rules", len(a.rules.Status().Rules))
}

// restartOnly names the parts of tact.toml that differ and are only read at start.
func restartOnly(old, cur *config.Config) []string {
	var out []string
	if old.Daemon.Listen != cur.Daemon.Listen || old.Daemon.DataDir != cur.Daemon.DataDir || old.Daemon.PluginDir != cur.Daemon.PluginDir ||
		old.Daemon.TimeZone != cur.Daemon.TimeZone || old.Daemon.Late != cur.Daemon.Late || fmt.Sprint(old.Daemon.Rules) != fmt.Sprint(cur.Daemon.Rules) ||
		old.Daemon.PublicURL != cur.Daemon.PublicURL || old.Daemon.ShutdownGrace != cur.Daemon.ShutdownGrace ||
		old.Daemon.Limits() != cur.Daemon.Limits() || old.Daemon.SecretsKey != cur.Daemon.SecretsKey {
		out = append(out, "[daemon]")
	}
	if fmt.Sprint(old.Accounts) != fmt.Sprint(cur.Accounts) {
		out = append(out, "[[account]]")
	}
	if fmt.Sprint(old.Feeds) != fmt.Sprint(cur.Feeds) {
		out = append(out, "[[feed]]")
	}
	if fmt.Sprint(old.Notify) != fmt.Sprint(cur.Notify) {
		out = append(out, "[[notify]]")
	}
	return out
}

// Package host is the daemon's side of the plugin system: it finds plugin binaries,
// starts one plugin process per account (built-ins by re-executing the daemon's own binary
// as `<exe> plugin <name>`, external ones as plugin_dir/tact-plugin-<name>), hands each
// process only its own account's settings, puts a deadline on every call, restarts a
// crashed process with capped exponential backoff, and pipes plugin logs into the daemon's
// slog logger with the account's name.
//
// A Publish whose outcome is unknown because the call itself failed (the process died,
// the deadline passed) returns an error for which OutcomeUnknown is true: the publisher
// must then resolve it through Lookup, never resend blindly.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// Defaults for Config's zero values.
const (
	DefaultCallTimeout  = 30 * time.Second
	DefaultStartTimeout = 30 * time.Second
	DefaultBackoffMin   = 500 * time.Millisecond
	DefaultBackoffMax   = time.Minute
)

// Config says where plugins come from and how they are run.
type Config struct {
	// PluginDir holds external tact-plugin-<name> binaries ("" = none).
	PluginDir string
	// Executable serves the built-ins as `<Executable> plugin <name>`; "" = os.Executable().
	Executable string
	// Builtins are the names Executable serves (builtin.Names()). A built-in name wins
	// over a binary of the same name in PluginDir.
	Builtins []string
	// Logger receives plugin output and process events; nil discards.
	Logger *slog.Logger
	// CallTimeout bounds a call whose context has no deadline.
	CallTimeout time.Duration
	// StartTimeout bounds starting a process and its handshake.
	StartTimeout time.Duration
	// BackoffMin and BackoffMax shape restarts: the first restart after a crash is
	// immediate, the next waits BackoffMin, then twice as long each time, up to BackoffMax.
	// A process that ran longer than BackoffMax before crashing starts the count afresh.
	BackoffMin, BackoffMax time.Duration
	// Now is the clock for backoff; nil = time.Now.
	Now func() time.Time
	// AuthorizerIdle is how long the process that runs an account's connect flow
	// (Authorizer) stays up after its last call (default DefaultAuthorizerIdle).
	AuthorizerIdle time.Duration
}

// DefaultAuthorizerIdle keeps an authorizer process for a person's visit to the network's
// consent page, so that the page and the way back are served by the same process.
const DefaultAuthorizerIdle = 15 * time.Minute

// Account is one configured account: the process the manager runs for it receives
// Settings through Configure and nothing else of the daemon's configuration.
type Account struct {
	Name     string
	Plugin   string            // a built-in name or an external plugin in PluginDir
	Settings map[string]string // secrets already resolved
	// Credentials are what the daemon's credential store holds for the account (OAuth
	// tokens, an app password), as settings: the account's process is configured with them
	// merged over Settings. The process that runs the connect flow (Authorizer) gets
	// Settings alone, so that it starts whatever state the credentials are in. Change them
	// on a running manager with SetCredentials.
	Credentials map[string]string
	// Binary, when set, is run instead of looking Plugin up (the conformance kit uses it).
	Binary string
}

// Manager runs the plugin processes of a set of accounts. It is safe for concurrent use.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	accounts map[string]*proc
	auth     map[string]*proc // the accounts' authorizer processes, made on first use
	closed   bool
	infos    map[string]PluginInfo // Plugins() cache by binary identity
}

// New checks accounts (unique names, plugins that exist) and returns a manager. No
// process starts until an account is first used (or Start is called).
func New(cfg Config, accounts []Account) (*Manager, error) {
	if cfg.Executable == "" && len(cfg.Builtins) > 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("plugins: cannot find the daemon's own binary to start built-in plugins: %w", err)
		}
		cfg.Executable = exe
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = DefaultBackoffMin
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(DefaultBackoffMax, cfg.BackoffMin)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AuthorizerIdle <= 0 {
		cfg.AuthorizerIdle = DefaultAuthorizerIdle
	}
	// An idle stop must never catch a call in flight.
	cfg.AuthorizerIdle = max(cfg.AuthorizerIdle, 2*cfg.CallTimeout)
	m := &Manager{cfg: cfg, log: cfg.Logger, accounts: map[string]*proc{}, auth: map[string]*proc{}, infos: map[string]PluginInfo{}}
	procs, err := m.build(accounts)
	if err != nil {
		return nil, err
	}
	m.accounts = procs
	return m, nil
}

// build resolves every account's command; it reports all problems at once.
func (m *Manager) build(accounts []Account) (map[string]*proc, error) {
	procs := map[string]*proc{}
	var errs []error
	for i, a := range accounts {
		switch {
		case a.Name == "":
			errs = append(errs, fmt.Errorf("account %d: name is empty", i+1))
			continue
		case procs[a.Name] != nil:
			errs = append(errs, fmt.Errorf("account %q: defined twice; account names must be unique", a.Name))
			continue
		}
		cmd, err := m.resolve(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("account %q: %w", a.Name, err))
			continue
		}
		procs[a.Name] = newProc(m, a, cmd)
	}
	return procs, errors.Join(errs...)
}

// command is how to start one plugin.
type command struct {
	plugin  string   // plugin name, for messages
	path    string   // binary
	args    []string // arguments after the binary
	builtin bool
}

func (c command) String() string {
	return strings.Join(append([]string{c.path}, c.args...), " ")
}

// resolve finds the binary for a's plugin.
func (m *Manager) resolve(a Account) (command, error) {
	if a.Binary != "" {
		name := a.Plugin
		if name == "" {
			name = strings.TrimPrefix(filepath.Base(a.Binary), BinaryPrefix)
		}
		return command{plugin: name, path: a.Binary}, nil
	}
	if a.Plugin == "" {
		return command{}, errors.New("plugin is empty; set plugin to a built-in (" + strings.Join(m.cfg.Builtins, ", ") + ") or a tact-plugin-* in plugin_dir")
	}
	if slices.Contains(m.cfg.Builtins, a.Plugin) {
		return command{plugin: a.Plugin, path: m.cfg.Executable, args: []string{"plugin", a.Plugin}, builtin: true}, nil
	}
	found, err := Discover(m.cfg.PluginDir)
	if err != nil {
		return command{}, err
	}
	for _, f := range found {
		if f.Name == a.Plugin {
			return command{plugin: a.Plugin, path: f.Path}, nil
		}
	}
	known := append([]string(nil), m.cfg.Builtins...)
	for _, f := range found {
		known = append(known, f.Name)
	}
	sort.Strings(known)
	where := "no plugin_dir is set"
	if m.cfg.PluginDir != "" {
		where = "no " + BinaryPrefix + a.Plugin + " in plugin_dir " + m.cfg.PluginDir
	}
	return command{}, fmt.Errorf("unknown plugin %q (%s); known plugins: %s", a.Plugin, where, strings.Join(known, ", "))
}

// Update replaces the set of accounts (a configuration reload). Processes of accounts
// that are gone, or whose plugin or settings changed, are stopped; the others keep
// running. On error nothing changes.
func (m *Manager) Update(accounts []Account) error {
	procs, err := m.build(accounts)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return errors.New("plugins: manager is closed")
	}
	var stop []*proc
	for name, old := range m.accounts {
		if nw, ok := procs[name]; ok && sameAccount(old.current(), nw.acct) && old.cmd.String() == nw.cmd.String() {
			procs[name] = old
			continue
		}
		stop = append(stop, old)
		if ap := m.auth[name]; ap != nil {
			stop = append(stop, ap)
			delete(m.auth, name)
		}
	}
	m.accounts = procs
	m.mu.Unlock()
	for _, p := range stop {
		p.stop()
	}
	return nil
}

func sameAccount(a, b Account) bool {
	return a.Plugin == b.Plugin && a.Binary == b.Binary && maps.Equal(a.Settings, b.Settings) && maps.Equal(a.Credentials, b.Credentials)
}

// Network returns the account's network. The process starts on first use; every call
// gets the manager's CallTimeout unless ctx already has a deadline. The value also
// implements sdk.Trender (a plugin without trends answers with a Permanent error).
// After Update replaces an account, earlier values for it fail: ask again.
func (m *Manager) Network(account string) (sdk.Network, error) {
	p, err := m.proc(account)
	if err != nil {
		return nil, err
	}
	return &network{p: p}, nil
}

// Start starts the account's process now (and Configures it) rather than on first use,
// so the daemon learns of bad credentials or broken plugins at startup.
func (m *Manager) Start(ctx context.Context, account string) error {
	p, err := m.proc(account)
	if err != nil {
		return err
	}
	ctx, cancel := m.withDeadline(ctx)
	defer cancel()
	_, _, err = p.acquire(ctx)
	return err
}

func (m *Manager) proc(account string) (*proc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("plugins: manager is closed")
	}
	p, ok := m.accounts[account]
	if !ok {
		return nil, fmt.Errorf("unknown account %q: it is not in the configuration", account)
	}
	return p, nil
}

// withDeadline gives ctx the default call deadline if it has none.
func (m *Manager) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, m.cfg.CallTimeout)
}

// Close stops every plugin process. Calls in flight fail; later calls are refused.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	procs := make([]*proc, 0, len(m.accounts)+len(m.auth))
	for _, p := range m.accounts {
		procs = append(procs, p)
	}
	for _, p := range m.auth {
		procs = append(procs, p)
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop()
		}()
	}
	wg.Wait()
	return nil
}

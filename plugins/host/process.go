package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tact-hq/tact/plugins/sdk"
)

// proc is one account's plugin process, started on demand and restarted after a crash.
type proc struct {
	m    *Manager
	acct Account // as built; its Credentials are the first value of creds
	cmd  command
	log  *slog.Logger

	mu        sync.Mutex
	creds     map[string]string // the account's credentials now (SetCredentials)
	client    *plugin.Client    // nil when not running
	net       *sdk.Client
	gen       uint64 // counts starts, so a late failure report cannot kill a newer process
	desc      sdk.Description
	startedAt time.Time
	crashes   int // consecutive crashes or failed starts
	retryAt   time.Time
	lastErr   error
	stopped   bool
	idle      *time.Timer // authorizer processes: stops the process once unused
}

func newProc(m *Manager, a Account, cmd command) *proc {
	return &proc{m: m, acct: a, cmd: cmd, creds: a.Credentials, log: m.log.With("account", a.Name, "plugin", cmd.plugin)}
}

// settingsLocked is what Configure receives: the account's settings with its current
// credentials merged over them.
func (p *proc) settingsLocked() map[string]string {
	return mergeSettings(p.acct.Settings, p.creds)
}

// current is the account as the process serves it now (its credentials included).
func (p *proc) current() Account {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.acct
	a.Credentials = p.creds
	return a
}

// acquire returns the running process's client, starting it (Describe, Configure) if
// needed. While a restart is backing off it fails at once, wrapping the last failure so
// its kind (e.g. Auth from Configure) stays visible.
func (p *proc) acquire(ctx context.Context) (*sdk.Client, uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, 0, fmt.Errorf("account %q: its plugin was stopped (the manager closed or the account was removed)", p.acct.Name)
	}
	if p.client != nil {
		if !p.client.Exited() {
			return p.net, p.gen, nil
		}
		p.failedLocked(fmt.Errorf("account %q: plugin %s exited", p.acct.Name, p.cmd.plugin))
	}
	now := p.m.cfg.Now()
	if now.Before(p.retryAt) {
		return nil, 0, &restartError{account: p.acct.Name, plugin: p.cmd.plugin, wait: p.retryAt.Sub(now), last: p.lastErr}
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("account %q: plugin %s not started: %w", p.acct.Name, p.cmd.plugin, err)
	}
	client, net, desc, err := p.m.launch(ctx, p.cmd, p.log, true)
	if err == nil {
		if cerr := net.Configure(ctx, p.settingsLocked()); cerr != nil {
			client.Kill()
			err = fmt.Errorf("account %q: plugin %s refused its settings: %w", p.acct.Name, p.cmd.plugin, cerr)
		} else if d, derr := net.Describe(ctx); derr == nil {
			desc = d // limits may depend on the settings (outbox max_length, a server's maximum)
		}
	} else {
		err = fmt.Errorf("account %q: %w", p.acct.Name, err)
	}
	if err != nil {
		if ctx.Err() != nil {
			// The caller gave up (shutdown, a short deadline): not the plugin's failure.
			return nil, 0, err
		}
		p.failedLocked(err)
		p.log.Error("plugin did not start", "error", err, "next_attempt_in", p.retryAt.Sub(now).String())
		return nil, 0, err
	}
	p.client, p.net, p.desc = client, net, desc
	p.gen++
	p.startedAt = now
	p.lastErr = nil
	pid := 0
	if rc := client.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	p.log.Info("plugin started", "version", desc.Version, "api_version", net.APIVersion(), "pid", pid)
	return net, p.gen, nil
}

// failedLocked records a crash or a failed start, stops what is left of the process and
// sets when the next start may happen: at once after the first failure, then after
// BackoffMin, doubling up to BackoffMax.
func (p *proc) failedLocked(err error) {
	now := p.m.cfg.Now()
	if p.client != nil {
		if now.Sub(p.startedAt) > p.m.cfg.BackoffMax {
			p.crashes = 0 // it ran long enough: this is a new incident, not a crash loop
		}
		p.client.Kill()
		p.client, p.net = nil, nil
	}
	p.crashes++
	p.retryAt = now.Add(p.m.backoff(p.crashes))
	p.lastErr = err
}

func (m *Manager) backoff(failures int) time.Duration {
	if failures <= 1 {
		return 0
	}
	d := m.cfg.BackoffMin
	for i := 2; i < failures && d < m.cfg.BackoffMax; i++ {
		d *= 2
	}
	return min(d, m.cfg.BackoffMax)
}

// callFailed is told about a call that failed at the transport. If the connection is
// gone (the process died) the process is stopped and the next use restarts it; a call
// that only ran out of time leaves a live process alone.
func (p *proc) callFailed(gen uint64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil || gen != p.gen {
		return // already handled, or a newer process is running
	}
	if p.client.Exited() || status.Code(err) == codes.Unavailable {
		p.log.Warn("plugin process died during a call; it will be restarted on next use", "error", err)
		p.failedLocked(fmt.Errorf("account %q: plugin %s died during a call: %w", p.acct.Name, p.cmd.plugin, err))
	}
}

// pid is the running process's id, 0 if none.
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil {
		return 0
	}
	if rc := p.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

func (p *proc) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	if p.idle != nil {
		p.idle.Stop()
	}
	if p.client != nil {
		p.client.Kill()
		p.client, p.net = nil, nil
	}
}

// restartError is returned while a crashed plugin waits for its next start.
type restartError struct {
	account, plugin string
	wait            time.Duration
	last            error
}

func (e *restartError) Error() string {
	return fmt.Sprintf("account %q: plugin %s is waiting %s before it is started again after: %v",
		e.account, e.plugin, e.wait.Round(time.Millisecond), e.last)
}

func (e *restartError) Unwrap() error { return e.last }

// launch starts cmd, checks the handshake and asks the plugin to Describe itself.
// managed puts the process on go-plugin's list for plugin.CleanupClients (a backstop for
// the daemon's exit); short-lived probes stay off it, since that list only grows.
func (m *Manager) launch(ctx context.Context, cmd command, log *slog.Logger, managed bool) (*plugin.Client, *sdk.Client, sdk.Description, error) {
	exe := exec.Command(cmd.path, cmd.args...)
	exe.Env = pluginEnv()
	dieWithParent(exe)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		Plugins:          plugin.PluginSet{sdk.PluginKey: &sdk.GRPCPlugin{}},
		Cmd:              exe,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// A Publish carries its attachments' bytes: more than gRPC's 4 MiB default.
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(sdk.MaxMessageBytes))},
		AutoMTLS:        true,
		Managed:         managed,
		SkipHostEnv:     true,
		StartTimeout:    m.cfg.StartTimeout,
		Logger:          newHCLog(log, filepath.Base(cmd.path)),
		SyncStdout:      &lineLogger{l: log, stream: "stdout"},
		SyncStderr:      &lineLogger{l: log, stream: "stderr"},
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, nil, sdk.Description{}, startError(cmd, err)
	}
	raw, err := rpc.Dispense(sdk.PluginKey)
	if err != nil {
		client.Kill()
		return nil, nil, sdk.Description{}, fmt.Errorf("plugin %s (%s): %w", cmd.plugin, cmd, err)
	}
	net, ok := raw.(*sdk.Client)
	if !ok {
		client.Kill()
		return nil, nil, sdk.Description{}, fmt.Errorf("plugin %s (%s): unexpected client type %T", cmd.plugin, cmd, raw)
	}
	desc, err := net.Describe(ctx)
	if err != nil {
		client.Kill()
		return nil, nil, sdk.Description{}, fmt.Errorf("plugin %s (%s): Describe failed: %w", cmd.plugin, cmd, err)
	}
	if net.APIVersion() > sdk.APIVersion {
		log.Debug("plugin speaks a newer minor API version than the daemon; newer features stay unused",
			"plugin_api_version", net.APIVersion(), "daemon_api_version", sdk.APIVersion)
	}
	return client, net, desc, nil
}

// startError explains a process that did not complete the handshake. A plugin that is
// not a tact plugin (or is broken) needs a person, so it is typed Auth: the account's
// posts are held rather than failed. A start that only timed out may work next time.
func startError(cmd command, err error) error {
	if m := pluginVersion.FindStringSubmatch(err.Error()); m != nil {
		return &sdk.Error{Kind: sdk.Auth, Message: fmt.Sprintf(
			"plugin %s (%s) speaks tact plugin protocol version %s, but this daemon expects version %d: "+
				"install a build of the plugin made with a plugins/sdk of protocol version %d",
			cmd.plugin, cmd, m[1], sdk.ProtocolVersion, sdk.ProtocolVersion)}
	}
	msg := fmt.Sprintf("plugin %s (%s) did not complete the tact plugin handshake "+
		"(expected protocol version %d, cookie %s): %v", cmd.plugin, cmd, sdk.ProtocolVersion, sdk.MagicCookieKey, err)
	if strings.Contains(err.Error(), "timeout while waiting for plugin to start") {
		return errors.New(msg)
	}
	return &sdk.Error{Kind: sdk.Auth, Message: msg + "; is it a tact plugin built with plugins/sdk?"}
}

// pluginVersion finds the plugin's protocol version in go-plugin's refusal ("incompatible
// API version with plugin. Plugin version: 2, Client versions: [1]").
var pluginVersion = regexp.MustCompile(`Plugin version: (\d+)`)

// passEnv is the part of the daemon's environment a plugin gets. The rest (which may hold
// other accounts' secrets, resolved from env: settings) is withheld.
var passEnv = []string{
	"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
	"GOCOVERDIR",
}

func pluginEnv() []string {
	var env []string
	for _, k := range passEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

package host

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// Connecting accounts (docs/plugins.md, "Connecting accounts"). The daemon keeps each
// account's credentials (OAuth tokens, an app password) encrypted in its store and hands
// them to the host as Account.Credentials; the host merges them over the account's
// settings for the account's process. The connect flow runs on a second process per
// account, its authorizer, configured with the account's settings alone: it works while
// the account has no credentials yet, or credentials the network now refuses (the
// account's own process then fails to start).

// mergeSettings returns settings with creds written over them (nil when both are empty).
func mergeSettings(settings, creds map[string]string) map[string]string {
	if len(creds) == 0 {
		return settings
	}
	out := maps.Clone(settings)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, creds)
	return out
}

// SetCredentials replaces the account's credentials. A running process of an SDK of API
// version 3 or later is configured again in place, so publishes in flight finish; an
// older one is stopped and restarts on next use; a process not running (waiting after a
// refusal) is started afresh on next use, without waiting for its backoff. The new
// credentials are kept even when the running process refuses them (the error says so):
// the process keeps its previous configuration until it restarts, and the daemon may try
// again.
func (m *Manager) SetCredentials(ctx context.Context, account string, creds map[string]string) error {
	p, err := m.proc(account)
	if err != nil {
		return err
	}
	ctx, cancel := m.withDeadline(ctx)
	defer cancel()
	return p.setCredentials(ctx, maps.Clone(creds))
}

func (p *proc) setCredentials(ctx context.Context, creds map[string]string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return fmt.Errorf("account %q: its plugin was stopped (the manager closed or the account was removed)", p.acct.Name)
	}
	p.creds = creds
	if p.client == nil || p.client.Exited() {
		if p.client != nil {
			p.client.Kill()
			p.client, p.net = nil, nil
		}
		// A person (or a refresh) changed what made it fail: start afresh on next use.
		p.crashes, p.retryAt, p.lastErr = 0, time.Time{}, nil
		return nil
	}
	if p.net.APIVersion() < 3 {
		// Configure was called once per process before API version 3.
		p.client.Kill()
		p.client, p.net = nil, nil
		p.crashes, p.retryAt, p.lastErr = 0, time.Time{}, nil
		p.log.Info("plugin stopped to take new credentials; it restarts on next use")
		return nil
	}
	if err := p.net.Configure(ctx, p.settingsLocked()); err != nil {
		return fmt.Errorf("account %q: plugin %s refused the new credentials (it keeps its previous ones until it restarts): %w", p.acct.Name, p.cmd.plugin, err)
	}
	if d, err := p.net.Describe(ctx); err == nil {
		p.desc = d
	}
	p.log.Info("plugin configured with new credentials")
	return nil
}

// Check starts a short-lived process for the account, configures it with creds merged over
// the account's settings, and stops it: credentials a person typed are tried before they
// are kept. The account's own process is not touched.
func (m *Manager) Check(ctx context.Context, account string, creds map[string]string) error {
	p, err := m.proc(account)
	if err != nil {
		return err
	}
	ctx, cancel := m.withDeadline(ctx)
	defer cancel()
	client, net, _, err := m.launch(ctx, p.cmd, p.log.With("role", "check"), false)
	if err != nil {
		return fmt.Errorf("account %q: %w", account, err)
	}
	defer client.Kill()
	if err := net.Configure(ctx, mergeSettings(p.acct.Settings, creds)); err != nil {
		return fmt.Errorf("account %q: plugin %s refused the credentials: %w", account, p.cmd.plugin, err)
	}
	return nil
}

// Authorizer returns the account's connect flow: the network's sdk.Authorizer calls, run
// on the account's authorizer process (started on first use, configured with the
// account's settings without its credentials, stopped AuthorizerIdle after its last
// call). A plugin without the "oauth" capability answers each call with a Permanent error.
func (m *Manager) Authorizer(account string) (sdk.Authorizer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("plugins: manager is closed")
	}
	main, ok := m.accounts[account]
	if !ok {
		return nil, fmt.Errorf("unknown account %q: it is not in the configuration", account)
	}
	ap := m.auth[account]
	if ap == nil {
		a := main.acct
		a.Credentials = nil
		ap = &proc{m: m, acct: a, cmd: main.cmd, log: main.log.With("role", "authorizer")}
		m.auth[account] = ap
	}
	return &authorizer{p: ap}, nil
}

// authorizer is what Manager.Authorizer returns.
type authorizer struct{ p *proc }

var _ sdk.Authorizer = (*authorizer)(nil)

func (a *authorizer) AuthCodeURL(ctx context.Context, req sdk.AuthRequest) (string, error) {
	a.p.touch()
	defer a.p.touch()
	u, _, err := callProc(ctx, a.p, func(ctx context.Context, c *sdk.Client) (string, error) { return c.AuthCodeURL(ctx, req) })
	return u, err
}

func (a *authorizer) Exchange(ctx context.Context, req sdk.ExchangeRequest) (sdk.Credentials, error) {
	a.p.touch()
	defer a.p.touch()
	cr, _, err := callProc(ctx, a.p, func(ctx context.Context, c *sdk.Client) (sdk.Credentials, error) { return c.Exchange(ctx, req) })
	return cr, err
}

func (a *authorizer) Refresh(ctx context.Context, old sdk.Credentials) (sdk.Credentials, error) {
	a.p.touch()
	defer a.p.touch()
	cr, _, err := callProc(ctx, a.p, func(ctx context.Context, c *sdk.Client) (sdk.Credentials, error) { return c.Refresh(ctx, old) })
	return cr, err
}

// touch (re)starts the idle countdown of an authorizer process: once AuthorizerIdle
// passes without a call, the process is stopped; the next call starts it again.
func (p *proc) touch() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	if p.idle != nil {
		p.idle.Reset(p.m.cfg.AuthorizerIdle)
		return
	}
	p.idle = time.AfterFunc(p.m.cfg.AuthorizerIdle, p.stopIdle)
}

func (p *proc) stopIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		p.client.Kill()
		p.client, p.net = nil, nil
		p.log.Debug("authorizer process stopped: unused")
	}
}

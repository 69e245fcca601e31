package daemon

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/connect"
	"github.com/tact-hq/tact/daemon/metrics"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/builtin"
	"github.com/tact-hq/tact/plugins/host"
	"github.com/tact-hq/tact/plugins/sdk"
)

// accounts answers api.Accounts from the configuration, the plugins' descriptions, the
// health the publisher recorded and the connections made from tact (daemon/connect).
// Settings and credentials never leave it.
type accounts struct {
	cfg     *config.Config
	store   queue.Store
	plugins *host.Manager
	connect *connect.Service // nil until wired
	loc     *time.Location   // for the dates of needs-attention reasons
	now     func() time.Time
}

// credentialSettings are the tact.toml settings that already connect an account, so that
// an account configured with a token is not reported as waiting to be connected.
var credentialSettings = []string{"token", sdk.SettingAccessToken, "app_password", "password"}

func (a *accounts) Accounts(ctx context.Context) ([]api.AccountInfo, error) {
	health := map[string]queue.AccountStatus{}
	if ss, err := a.store.AccountStatuses(ctx); err == nil {
		for _, s := range ss {
			health[s.Account] = s
		}
	}
	creds := map[string]*queue.Credential{}
	if cs, err := a.store.Credentials(ctx); err == nil {
		for _, c := range cs {
			creds[c.Account] = c
		}
	}
	var names []string
	for _, ac := range a.cfg.Accounts {
		names = append(names, ac.Name)
	}
	activity := map[string]queue.AccountActivity{}
	if as, err := a.store.AccountActivity(ctx, names); err == nil {
		for _, x := range as {
			activity[x.Account] = x
		}
	}
	now := a.now()
	var out []api.AccountInfo
	for _, ac := range a.cfg.Accounts {
		info := api.AccountInfo{Name: ac.Name, Plugin: ac.Plugin, Healthy: true}
		if h, ok := health[ac.Name]; ok {
			info.Healthy, info.Detail, info.UpdatedAt = h.Healthy, h.Detail, h.UpdatedAt
		}
		x := activity[ac.Name]
		info.LastPublishedAt, info.LastError, info.LastErrorAt = x.LastPublishedAt, x.LastError, x.LastErrorAt
		var caps []string
		if n, err := a.plugins.Network(ac.Name); err == nil {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if d, err := n.Describe(dctx); err == nil {
				info.PluginVersion, info.MaxLength, info.Counting = d.Version, d.MaxLength, string(d.Counting)
				caps = d.Capabilities
			} else if ctx.Err() == nil {
				// A plugin that does not start or answer cannot publish: the account needs a
				// person as much as one with revoked credentials.
				info.Healthy = false
				if info.Detail == "" {
					info.Detail = "plugin: " + err.Error()
				}
			}
			cancel()
		}
		if m, err := a.methodFrom(ctx, ac, caps); err == nil {
			info.Connect = string(m)
		}
		a.connection(&info, ac, creds[ac.Name], now)
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// connection fills what the account's connection made from tact says, and why it needs a
// person.
func (a *accounts) connection(info *api.AccountInfo, ac config.Account, c *queue.Credential, now time.Time) {
	if c == nil {
		if info.Connect != "" && !slices.ContainsFunc(credentialSettings, func(k string) bool { return ac.Settings[k] != "" }) {
			info.Healthy = false
			info.NeedsAttention = append(info.NeedsAttention, fmt.Sprintf("not connected: connect it on the Accounts page or with tactctl account connect %s", ac.Name))
		}
		return
	}
	info.Connection = &api.Connection{Kind: string(c.Kind), Subject: c.Subject, ConnectedAt: c.ConnectedAt, ConnectedBy: c.ConnectedBy,
		TokenExpiresAt: c.ExpiresAt, RefreshExpiresAt: c.RefreshExpiresAt, RefreshedAt: c.RefreshedAt, RefreshAt: c.RefreshAt(), RefreshError: c.RefreshError}
	if a.connect != nil {
		if err := a.connect.Opens(c); err != nil {
			info.Healthy = false
			info.NeedsAttention = append(info.NeedsAttention, err.Error())
		}
	}
	reasons := c.Attention(now, a.loc)
	info.NeedsAttention = append(info.NeedsAttention, reasons...)
	if c.NeedsPerson || (!c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)) {
		info.Healthy = false
	}
}

// method says how account connects from tact (connect.Options.Method).
func (a *accounts) method(ctx context.Context, account string) (connect.Method, error) {
	for _, ac := range a.cfg.Accounts {
		if ac.Name != account {
			continue
		}
		var caps []string
		if n, err := a.plugins.Network(account); err == nil {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if d, err := n.Describe(dctx); err == nil {
				caps = d.Capabilities
			}
			cancel()
		}
		return a.methodFrom(ctx, ac, caps)
	}
	return "", queue.Errorf(queue.NotFound, "account", "there is no account %q in tact.toml", account)
}

// methodFrom decides from the plugin: a plugin of connect.PasswordFields takes an app
// password, one that lists "oauth" the consent page. caps are the capabilities the
// account's process described (nil when it could not: then the plugin binary's own
// description is read).
func (a *accounts) methodFrom(ctx context.Context, ac config.Account, caps []string) (connect.Method, error) {
	if _, ok := connect.PasswordFields[ac.Plugin]; ok {
		return connect.Password, nil
	}
	if caps == nil {
		// The account's process did not describe itself (its tokens may be refused). A
		// built-in plugin is asked in process, without starting anything: starting every
		// plugin binary to learn one capability made the accounts listing, and what uses
		// it (creating a campaign), take longer than clients wait.
		if n, ok := builtin.New(ac.Plugin); ok {
			if _, isAuth := n.(sdk.Authorizer); isAuth {
				caps = []string{"oauth"}
			}
		}
	}
	if slices.Contains(caps, "oauth") {
		return connect.OAuth, nil
	}
	return "", queue.Errorf(queue.Conflict, "account", "account %q cannot be connected from tact: its plugin %s connects no accounts (it lists no oauth capability); set its credentials in tact.toml", ac.Name, ac.Plugin)
}

func (a *accounts) pluginOf(account string) string {
	for _, ac := range a.cfg.Accounts {
		if ac.Name == account {
			return ac.Plugin
		}
	}
	return ""
}

// trends gathers the trending topics of accounts whose plugin offers them, as context.
func (a *accounts) trends(ctx context.Context) ([]*queue.ContextItem, error) {
	var items []*queue.ContextItem
	var errs []string
	for _, ac := range a.cfg.Accounts {
		n, err := a.plugins.Network(ac.Name)
		if err != nil {
			continue
		}
		tr, ok := n.(sdk.Trender)
		if !ok {
			continue
		}
		ts, err := tr.Trends(ctx)
		if err != nil {
			// A plugin without trends answers with a typed error; only real failures count.
			if sdk.KindOf(err) != sdk.Permanent {
				errs = append(errs, ac.Name+": "+err.Error())
			}
			continue
		}
		for _, t := range ts {
			items = append(items, &queue.ContextItem{Source: "plugin:" + ac.Name, Title: t.Title, Summary: t.Summary,
				URL: t.URL, Language: t.Language, GUID: t.URL})
		}
	}
	if len(errs) > 0 {
		return items, fmt.Errorf("trends: %s", strings.Join(errs, "; "))
	}
	return items, nil
}

// validator runs each target account's plugin Validate (api.Validator, schedule.Validator).
type validator struct{ networks *instrumented }

func (v *validator) Validate(ctx context.Context, accts []string, p sdk.Post) ([]string, error) {
	var problems []string
	for _, name := range accts {
		n, err := v.networks.Network(name)
		if err != nil {
			return nil, err
		}
		ps, err := n.Validate(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("account %s: validating the post: %w", name, err)
		}
		for _, pr := range ps {
			problems = append(problems, name+": "+pr.String())
		}
	}
	return problems, nil
}

// instrumented hands out the plugin host's networks wrapped so that every call is timed
// into the metrics by account and method.
type instrumented struct {
	plugins *host.Manager
	m       *metrics.Metrics
}

func (i *instrumented) Network(account string) (sdk.Network, error) {
	n, err := i.plugins.Network(account)
	if err != nil {
		return nil, err
	}
	return &timedNetwork{n: n, account: account, m: i.m}, nil
}

type timedNetwork struct {
	n       sdk.Network
	account string
	m       *metrics.Metrics
}

func (t *timedNetwork) observe(method string, start time.Time, err error) {
	t.m.ObservePluginCall(t.account, method, time.Since(start), err)
}

func (t *timedNetwork) Describe(ctx context.Context) (sdk.Description, error) {
	start := time.Now()
	d, err := t.n.Describe(ctx)
	t.observe("describe", start, err)
	return d, err
}

func (t *timedNetwork) Configure(ctx context.Context, s map[string]string) error {
	start := time.Now()
	err := t.n.Configure(ctx, s)
	t.observe("configure", start, err)
	return err
}

func (t *timedNetwork) Validate(ctx context.Context, p sdk.Post) ([]sdk.Problem, error) {
	start := time.Now()
	ps, err := t.n.Validate(ctx, p)
	t.observe("validate", start, err)
	return ps, err
}

func (t *timedNetwork) Publish(ctx context.Context, p sdk.Post, key string) (sdk.Receipt, error) {
	start := time.Now()
	r, err := t.n.Publish(ctx, p, key)
	t.observe("publish", start, err)
	return r, err
}

func (t *timedNetwork) Lookup(ctx context.Context, key string) (sdk.Receipt, bool, error) {
	start := time.Now()
	r, found, err := t.n.Lookup(ctx, key)
	t.observe("lookup", start, err)
	return r, found, err
}

func (t *timedNetwork) Delete(ctx context.Context, id string) error {
	start := time.Now()
	err := t.n.Delete(ctx, id)
	t.observe("delete", start, err)
	return err
}

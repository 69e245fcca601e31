// Package connect connects accounts to their networks from tact instead of tokens pasted
// into tact.toml (docs/operations.md, "Connecting accounts"): it runs the OAuth 2.0
// authorization code flow with PKCE (S256) and a state through the account's plugin
// (sdk.Authorizer), takes app passwords a person types (Bluesky), keeps what it gets
// sealed with [daemon] secrets_key in the store, hands it to the account's plugin
// process, and refreshes tokens before they expire.
//
// The HTTP API, the web UI and tactctl are adapters over the Service's methods.
package connect

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Method is how an account is connected from tact.
type Method string

const (
	// OAuth: the network's consent page, through the plugin's sdk.Authorizer.
	OAuth Method = "oauth"
	// Password: settings a person types (an app password), listed in PasswordFields.
	Password Method = "password"
)

// Field is one setting a person types to connect a Password account.
type Field struct {
	Setting string // the plugin setting it becomes
	Label   string
	Secret  bool // shown as a password field, never shown back
	Subject bool // who the account is: shown as "connected as"
	Hint    string
}

// PasswordFields are the settings each plugin connected by Password takes.
var PasswordFields = map[string][]Field{
	"bluesky": {
		{Setting: "identifier", Label: "Handle", Subject: true, Hint: "brand.bsky.social, or the account's DID"},
		{Setting: "app_password", Label: "App password", Secret: true, Hint: "made in Bluesky under Settings, Privacy and security, App passwords"},
	},
}

// Defaults.
const (
	// FlowTTL is how long a started connection waits for the network's answer.
	FlowTTL = 10 * time.Minute
	// MaxFlows bounds the connections waiting at once.
	MaxFlows = 64
	// RefreshRetry is how soon a refresh that failed without a refusal is tried again.
	RefreshRetry = 2 * time.Minute
	// CallbackPath is the daemon's redirect URI below [daemon] public_url.
	CallbackPath = "/oauth/callback"
)

// Plugins is what the service needs of the plugin host (plugins/host.Manager).
type Plugins interface {
	Authorizer(account string) (sdk.Authorizer, error)
	SetCredentials(ctx context.Context, account string, creds map[string]string) error
	Check(ctx context.Context, account string, creds map[string]string) error
}

// Options configure New.
type Options struct {
	Store   queue.Store
	Plugins Plugins
	// Method says how account connects ("" with an error explaining why it does not).
	Method func(ctx context.Context, account string) (Method, error)
	// Plugin names each account's plugin.
	Plugin func(account string) string
	// Key is [daemon] secrets_key; nil refuses every connection, saying how to set it.
	Key []byte
	// PublicURL is [daemon] public_url; the redirect URI is PublicURL + CallbackPath.
	PublicURL string
	Clock     clock.Clock
	Logger    *slog.Logger
}

// Service connects accounts. Safe for concurrent use.
type Service struct {
	opt    Options
	sealer *Sealer // nil without a key
	log    *slog.Logger
	wake   chan struct{}

	mu    sync.Mutex
	flows map[string]*flow // by state
	// unapplied are accounts whose plugin process refused credentials the store holds;
	// the refresh loop hands them over again.
	unapplied map[string]bool
}

// flow is one started OAuth connection, kept server-side until the network's answer.
type flow struct {
	account  string
	verifier string
	userID   int64
	userName string
	redirect string
	expires  time.Time
}

// New returns the service. A key that is not 32 bytes is an error.
func New(opt Options) (*Service, error) {
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{opt: opt, log: opt.Logger, wake: make(chan struct{}, 1), flows: map[string]*flow{}, unapplied: map[string]bool{}}
	if opt.Key != nil {
		sealer, err := NewSealer(opt.Key)
		if err != nil {
			return nil, err
		}
		s.sealer = sealer
	}
	return s, nil
}

// Started is the answer to Start: the page to open, and until when it works.
type Started struct {
	Account   string    `json:"account"`
	AuthURL   string    `json:"auth_url"`
	State     string    `json:"state"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Connected is the outcome of a connection.
type Connected struct {
	Account   string    `json:"account"`
	Subject   string    `json:"subject,omitempty"`
	ExpiresAt time.Time `json:"token_expires_at,omitzero"`
	// Warning is set when the credentials are stored but the account's plugin process did
	// not take them (it is tried again).
	Warning string `json:"warning,omitempty"`
}

// errNoKey is the refusal of every connection without [daemon] secrets_key.
func errNoKey() error {
	return queue.Errorf(queue.Conflict, "secrets_key", "connecting accounts needs [daemon] secrets_key in tact.toml, the key that encrypts their tokens: make one with `%s`, add secrets_key = \"file:/etc/tact/secrets.key\" to [daemon], and restart tactd", config.MakeSecretsKey)
}

// RedirectURI is the daemon's OAuth callback, or an error saying how to set public_url.
func (s *Service) RedirectURI() (string, error) {
	if s.opt.PublicURL == "" {
		return "", queue.Errorf(queue.Conflict, "public_url", "connecting an account through its network needs [daemon] public_url in tact.toml, the address people's browsers reach tact at (e.g. public_url = \"https://tact.example\"): the network sends the browser back to public_url%s, which must also be registered as the redirect URI of the network's app; set it and restart tactd", CallbackPath)
	}
	return strings.TrimRight(s.opt.PublicURL, "/") + CallbackPath, nil
}

// CanConnect says why no account can be connected by m now (nil: they can): no
// secrets_key, and for OAuth no public_url. The accounts page shows it up front.
func (s *Service) CanConnect(m Method) error {
	if s.sealer == nil {
		return errNoKey()
	}
	if m == OAuth {
		_, err := s.RedirectURI()
		return err
	}
	return nil
}

// method checks that account exists and connects by m.
func (s *Service) method(ctx context.Context, account string, want Method) error {
	got, err := s.opt.Method(ctx, account)
	if err != nil {
		return err
	}
	if got != want {
		switch got {
		case Password:
			return queue.Errorf(queue.Conflict, "account", "account %q connects with an app password, not through the network's consent page: give its %s", account, fieldNames(s.opt.Plugin(account)))
		case OAuth:
			return queue.Errorf(queue.Conflict, "account", "account %q connects through its network's consent page (start it with tactctl account connect %s, or the Accounts page), not with a password", account, account)
		}
		return queue.Errorf(queue.Conflict, "account", "account %q cannot be connected from tact: set its credentials in tact.toml", account)
	}
	return nil
}

func fieldNames(plugin string) string {
	var names []string
	for _, f := range PasswordFields[plugin] {
		names = append(names, f.Setting)
	}
	return strings.Join(names, " and ")
}

// Start begins connecting account through its network's consent page, for by (an admin):
// it makes a PKCE verifier and a random state, keeps them for FlowTTL, and returns the
// page to open.
func (s *Service) Start(ctx context.Context, by *queue.User, account string) (Started, error) {
	if s.sealer == nil {
		return Started{}, errNoKey()
	}
	if err := s.method(ctx, account, OAuth); err != nil {
		return Started{}, err
	}
	redirect, err := s.RedirectURI()
	if err != nil {
		return Started{}, err
	}
	verifier, state := randomToken(), randomToken()
	now := s.opt.Clock.Now()
	s.mu.Lock()
	s.pruneLocked(now)
	if len(s.flows) >= MaxFlows {
		s.mu.Unlock()
		return Started{}, queue.Errorf(queue.Conflict, "account", "%d connections are already waiting for their network's answer: finish one, or wait %s for them to expire", MaxFlows, FlowTTL)
	}
	f := &flow{account: account, verifier: verifier, userID: by.ID, userName: by.Name, redirect: redirect, expires: now.Add(FlowTTL)}
	s.flows[state] = f
	s.mu.Unlock()

	az, err := s.opt.Plugins.Authorizer(account)
	if err != nil {
		s.drop(state)
		return Started{}, err
	}
	u, err := az.AuthCodeURL(ctx, sdk.AuthRequest{RedirectURI: redirect, State: state, CodeChallenge: Challenge(verifier)})
	if err != nil {
		s.drop(state)
		return Started{}, pluginError(account, "could not make the network's consent page", err)
	}
	s.log.Info("connect: started", "account", account, "by", by.Name)
	return Started{Account: account, AuthURL: u, State: state, ExpiresAt: f.expires.UTC()}, nil
}

// Challenge is the PKCE S256 code challenge of verifier (RFC 7636).
func Challenge(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// randomToken is 32 random bytes in base64url: a PKCE verifier (43 characters, within
// RFC 7636's 43 to 128) or a state.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("connect: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) drop(state string) {
	s.mu.Lock()
	delete(s.flows, state)
	s.mu.Unlock()
}

func (s *Service) pruneLocked(now time.Time) {
	for k, f := range s.flows {
		if !now.Before(f.expires) {
			delete(s.flows, k)
		}
	}
}

// Answer is what the network's redirect brought back to the callback.
type Answer struct {
	State, Code string
	// Error and Description are the OAuth error of a refusal (access_denied).
	Error, Description string
}

// errUnknownState refuses a callback whose state is not waiting: wrong, already used,
// or expired. The three are not told apart: the state is the callback's only credential.
func errUnknownState() error {
	return queue.Errorf(queue.Invalid, "state", "this connection is unknown, was already completed, or is more than %s old; nothing was changed: start again from the Accounts page or with tactctl account connect NAME", FlowTTL)
}

// Finish completes a connection from the network's answer: it trades the code for
// credentials (with the flow's PKCE verifier), stores them sealed, and hands them to the
// account's plugin process. A state is used once, whatever the outcome.
func (s *Service) Finish(ctx context.Context, a Answer) (Connected, error) {
	if a.State == "" {
		return Connected{}, errUnknownState()
	}
	now := s.opt.Clock.Now()
	s.mu.Lock()
	f, ok := s.flows[a.State]
	delete(s.flows, a.State)
	s.mu.Unlock()
	if !ok || !now.Before(f.expires) {
		return Connected{}, errUnknownState()
	}
	if a.Error != "" {
		msg := a.Error
		if a.Description != "" {
			msg += ": " + a.Description
		}
		return Connected{}, queue.Errorf(queue.Invalid, "error", "the network did not authorize tact for account %q (%s); nothing was changed: start again and approve on the network's page", f.account, clip(msg, 200))
	}
	if a.Code == "" {
		return Connected{}, queue.Errorf(queue.Invalid, "code", "the network's answer for account %q carries no code; nothing was changed: start again", f.account)
	}
	by, err := s.starter(ctx, f)
	if err != nil {
		return Connected{}, err
	}
	az, err := s.opt.Plugins.Authorizer(f.account)
	if err != nil {
		return Connected{}, err
	}
	cr, err := az.Exchange(ctx, sdk.ExchangeRequest{Code: a.Code, CodeVerifier: f.verifier, RedirectURI: f.redirect})
	if err != nil {
		return Connected{}, pluginError(f.account, "the network did not give tokens for the code", err)
	}
	if cr.AccessToken == "" {
		return Connected{}, queue.Errorf(queue.Invalid, "code", "the plugin of account %q exchanged the code but returned no access token: report it to the plugin's authors", f.account)
	}
	c := &queue.Credential{Account: f.account, Kind: queue.CredentialOAuth, Subject: cr.Subject, Refreshable: cr.RefreshToken != "",
		ExpiresAt: cr.ExpiresAt, RefreshExpiresAt: cr.RefreshExpiresAt}
	return s.keep(ctx, by, c, sdk.CredentialSettings(cr))
}

// starter is the person who started f, as the store knows them now: a person who was
// deleted or is no longer an admin cannot complete what they started.
func (s *Service) starter(ctx context.Context, f *flow) (queue.Actor, error) {
	users, err := s.opt.Store.Users(ctx)
	if err != nil {
		return queue.Actor{}, err
	}
	for _, u := range users {
		if u.ID == f.userID && u.Role.Allows(queue.RoleAdmin) {
			return queue.Actor{Kind: queue.ActorUser, Name: u.Name}, nil
		}
	}
	return queue.Actor{}, queue.Errorf(queue.Forbidden, "state", "the connection of account %q was started by %s, who is no longer an admin; nothing was changed: an admin must start it again", f.account, f.userName)
}

// ConnectPassword connects a Password account with the settings a person typed (each of
// PasswordFields of its plugin): they are tried on a process of their own first, and kept
// only if the network takes them.
func (s *Service) ConnectPassword(ctx context.Context, by *queue.User, account string, typed map[string]string) (Connected, error) {
	if s.sealer == nil {
		return Connected{}, errNoKey()
	}
	if err := s.method(ctx, account, Password); err != nil {
		return Connected{}, err
	}
	fields := PasswordFields[s.opt.Plugin(account)]
	settings := map[string]string{}
	c := &queue.Credential{Account: account, Kind: queue.CredentialPassword}
	for _, f := range fields {
		v := strings.TrimSpace(typed[f.Setting])
		if v == "" {
			return Connected{}, queue.Errorf(queue.Invalid, f.Setting, "%s (%s) is empty: %s", f.Label, f.Setting, f.Hint)
		}
		settings[f.Setting] = v
		if f.Subject {
			c.Subject = v
		}
	}
	for k := range typed {
		if !slices.ContainsFunc(fields, func(f Field) bool { return f.Setting == k }) {
			return Connected{}, queue.Errorf(queue.Invalid, k, "%q is not one of the settings account %q connects with (%s)", k, account, fieldNames(s.opt.Plugin(account)))
		}
	}
	if err := s.opt.Plugins.Check(ctx, account, settings); err != nil {
		return Connected{}, pluginError(account, "the network did not accept these credentials; nothing was changed", err)
	}
	return s.keep(ctx, queue.Actor{Kind: queue.ActorUser, Name: by.Name}, c, settings)
}

// keep seals settings into c, stores it and hands it to the account's process.
func (s *Service) keep(ctx context.Context, by queue.Actor, c *queue.Credential, settings map[string]string) (Connected, error) {
	if err := s.sealer.Seal(c, settings); err != nil {
		return Connected{}, err
	}
	if err := s.opt.Store.SaveCredential(ctx, by, c); err != nil {
		return Connected{}, err
	}
	s.log.Info("connect: account connected", "account", c.Account, "subject", c.Subject, "by", by.Name, "token_expires_at", c.ExpiresAt)
	out := Connected{Account: c.Account, Subject: c.Subject, ExpiresAt: c.ExpiresAt}
	if err := s.apply(ctx, c.Account, settings); err != nil {
		out.Warning = err.Error()
	}
	s.Wake()
	return out, nil
}

// apply hands stored credentials to the account's process, remembering a refusal so that
// the refresh loop tries again.
func (s *Service) apply(ctx context.Context, account string, settings map[string]string) error {
	err := s.opt.Plugins.SetCredentials(ctx, account, settings)
	s.mu.Lock()
	if err != nil {
		s.unapplied[account] = true
	} else {
		delete(s.unapplied, account)
	}
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("connect: the plugin did not take the stored credentials; tried again later", "account", account, "err", err)
	}
	return err
}

// Wake makes the refresh loop look at the credentials again.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Load opens every stored credential, for the accounts' processes at start (by account
// name). Credentials that cannot be opened are left out and reported, one error each.
func Load(ctx context.Context, st queue.CredentialStore, key []byte) (map[string]map[string]string, []error) {
	cs, err := st.Credentials(ctx)
	if err != nil {
		return nil, []error{err}
	}
	if len(cs) == 0 {
		return nil, nil
	}
	if key == nil {
		return nil, []error{fmt.Errorf("%d accounts are connected (%s), but [daemon] secrets_key is not set: their credentials cannot be read and they publish nothing; set secrets_key to the key they were sealed with and restart tactd", len(cs), accountNames(cs))}
	}
	sealer, err := NewSealer(key)
	if err != nil {
		return nil, []error{err}
	}
	out := map[string]map[string]string{}
	var errs []error
	for _, c := range cs {
		settings, err := sealer.Open(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[c.Account] = settings
	}
	return out, errs
}

func accountNames(cs []*queue.Credential) string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Account)
	}
	return strings.Join(names, ", ")
}

// Opens reports whether the account's stored credentials can be read with the key, and
// why not.
func (s *Service) Opens(c *queue.Credential) error {
	if s.sealer == nil {
		return fmt.Errorf("the credentials cannot be read: [daemon] secrets_key is not set; set it to the key they were sealed with and restart tactd")
	}
	_, err := s.sealer.Open(c)
	return err
}

// pluginError turns a plugin's error into a domain error the API and the pages show: the
// network's refusals (auth, permanent) are the request's fault, the rest may pass.
func pluginError(account, doing string, err error) error {
	kind := queue.Conflict
	switch sdk.KindOf(err) {
	case sdk.Auth, sdk.Permanent:
		kind = queue.Invalid
	case sdk.Retryable, sdk.RateLimited:
		kind = queue.Unavailable
	}
	if queue.ErrorKind(err) != "" {
		return err
	}
	return &queue.Error{Kind: kind, Field: "account", Message: fmt.Sprintf("account %q: %s", account, doing), Err: err}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// extras are the settings of a credential beyond sdk's own names (Credentials.Extra).
func extras(settings map[string]string) map[string]string {
	out := maps.Clone(settings)
	for _, k := range []string{sdk.SettingAccessToken, sdk.SettingRefreshToken, sdk.SettingExpiresAt, sdk.SettingRefreshExpiresAt, sdk.SettingSubject} {
		delete(out, k)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

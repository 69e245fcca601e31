// Package linkedin publishes to a LinkedIn member's or organization's feed through
// LinkedIn's versioned REST API: the Posts API (POST /rest/posts) and the Images API, with
// the LinkedIn-Version header pinned (setting linkedin_version, default DefaultVersion)
// and X-Restli-Protocol-Version 2.0.0. Accounts connect through OAuth 2.0 (Authorizer):
// 60-day access tokens, and 365-day refresh tokens for apps LinkedIn approved for them.
// docs/plugins.md, "LinkedIn", is the user's side of all this.
//
// A post is one of: text only; one image (content.media); 2 to 20 images
// (content.multiImage, the link appended to the text); or a link (content.article, its
// title the link's address since tact has no page title and never fetches the page, with
// the post's one image, if any, as the card's thumbnail). The commentary is written in
// LinkedIn's little text format (Commentary): reserved characters escaped, hashtags kept.
//
// Idempotency. LinkedIn takes no idempotency key. Before a post is sent the plugin
// appends the key, the time, a hash of the text and the kind of content to a journal in
// state_dir (synced to disk), and after LinkedIn answers it appends the receipt (the
// x-restli-id header). Lookup, in whatever process the daemon runs it after a crash:
//   - a key absent from the journal was never sent: not found;
//   - a key with a receipt was published: that receipt;
//   - a key sent but never answered is searched among the author's posts created since
//     (GET /rest/posts?q=author, minus five minutes of clock skew), matching the text as
//     a reader sees it and the kind of content, skipping posts other keys own. A match is
//     the receipt; nothing posted since means it was never published. Posts in the window
//     that match nothing, more than the plugin reads, or an author whose posts the token
//     may not read (that needs r_member_social for a member, which LinkedIn grants only to
//     approved apps, or r_organization_social) make Lookup answer "cannot tell", and the
//     daemon marks the post unknown for a person rather than post it twice.
//
// A second net under the first: LinkedIn refuses a post identical to a recent one of the
// same author (422 DUPLICATE_POST naming it). When the post being sent again is one this
// key sent before without an answer, the post named is adopted as this key's receipt.
//
// Without state_dir the journal lives in memory: Lookup answers for keys this process
// sent and "cannot tell" for any other.
package linkedin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-hq/tact/plugins/internal/journal"
	"github.com/tact-hq/tact/plugins/internal/setting"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

const (
	// DefaultVersion is the LinkedIn-Version the plugin speaks unless linkedin_version says
	// otherwise. LinkedIn serves each monthly version for at least a year.
	DefaultVersion = "202606"
	// DefaultAPIURL and DefaultOAuthURL are LinkedIn's hosts; the settings api_url and
	// oauth_url exist for tests and proxies.
	DefaultAPIURL   = "https://api.linkedin.com"
	DefaultOAuthURL = "https://www.linkedin.com"

	maxCommentary = 3000
	maxImages     = 20 // a multiImage post takes 2 to 20
	maxPixels     = 36_152_320
	maxAltText    = 4086
	// scanPages and scanPageSize bound the posts Lookup reads to find an interrupted publish.
	scanPages    = 4
	scanPageSize = 50
	clockSkew    = 5 * time.Minute
)

var (
	imageTypes  = []string{"image/jpeg", "image/png", "image/gif"}
	settingKeys = []string{
		"author", "visibility", "linkedin_version", "state_dir",
		"client_id", "client_secret", "scopes",
		sdk.SettingAccessToken, sdk.SettingRefreshToken, sdk.SettingExpiresAt, sdk.SettingRefreshExpiresAt, sdk.SettingSubject,
		"api_url", "oauth_url",
	}
	secretKeys   = []string{"client_secret", sdk.SettingAccessToken, sdk.SettingRefreshToken}
	capabilities = []string{"delete", "lookup", "media", "oauth"}

	authorURN = regexp.MustCompile(`^urn:li:(person|organization):[A-Za-z0-9_-]+$`)
	versionRE = regexp.MustCompile(`^20[0-9]{2}(0[1-9]|1[0-2])$`)
)

// config is what Configure accepted; replaced whole, never changed.
type config struct {
	configured       bool
	apiURL, oauthURL string
	version          string
	author           string // urn:li:person:… or urn:li:organization:…; "" while unknown
	visibility       string
	clientID         string
	clientSecret     string
	scopes           []string
	token            string
	creds            sdk.Credentials
	// unusable says why the access token cannot publish, as learnt at Configure ("" if
	// it can as far as tact knows): Publish, Lookup and Delete return it as Auth.
	unusable string
}

func (c *config) organization() bool { return strings.HasPrefix(c.author, "urn:li:organization:") }

// Network is one LinkedIn account. Create it with New; the zero value is not usable.
type Network struct {
	client        *http.Client
	now           func() time.Time
	log           *slog.Logger
	pollInterval  time.Duration
	imageDeadline time.Duration

	conf atomic.Pointer[config]

	// publishMu serialises Publish and Lookup, which read and write the journal around
	// network calls: one key must not be sent twice by two concurrent calls.
	publishMu sync.Mutex
	journal   *journal.Journal[attempt]
}

// Option changes how New builds a Network.
type Option func(*Network)

// WithHTTPClient sends requests through c (default: a 2-minute timeout; every call is
// also bounded by its ctx).
func WithHTTPClient(c *http.Client) Option { return func(n *Network) { n.client = c } }

// WithClock makes the Network read the time from now (tests; default time.Now).
func WithClock(now func() time.Time) Option { return func(n *Network) { n.now = now } }

// WithLogger logs through l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(n *Network) { n.log = l } }

// WithImagePolling sets how often an uploaded image still processing is polled and how
// long it may take (default every 500ms, up to 2 minutes; ctx's deadline also applies).
func WithImagePolling(interval, deadline time.Duration) Option {
	return func(n *Network) { n.pollInterval, n.imageDeadline = interval, deadline }
}

// New returns an unconfigured LinkedIn network.
func New(opts ...Option) *Network {
	n := &Network{
		client:        &http.Client{Timeout: 2 * time.Minute},
		now:           time.Now,
		log:           slog.Default(),
		pollInterval:  500 * time.Millisecond,
		imageDeadline: 2 * time.Minute,
		journal:       journal.Memory[attempt](),
	}
	n.conf.Store(&config{apiURL: DefaultAPIURL, oauthURL: DefaultOAuthURL, version: DefaultVersion, visibility: "PUBLIC"})
	for _, o := range opts {
		o(n)
	}
	return n
}

var (
	_ sdk.Network    = (*Network)(nil)
	_ sdk.Authorizer = (*Network)(nil)
)

func (n *Network) cfg() *config { return n.conf.Load() }

// Describe reports LinkedIn's limits: 3,000 characters, up to 20 JPEG, PNG or GIF images.
func (n *Network) Describe(ctx context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name:          "linkedin",
		Version:       Version,
		MaxLength:     maxCommentary,
		Counting:      sdk.CountRunes,
		MaxMedia:      maxImages,
		MediaTypes:    slices.Clone(imageTypes),
		Capabilities:  slices.Clone(capabilities),
		SettingsKeys:  slices.Clone(settingKeys),
		SecretSetting: slices.Clone(secretKeys),
	}, nil
}

// Configure checks the settings, learns who the token posts as, and opens the journal.
// A bad setting is Permanent. A token that is expired, revoked or short of a scope does
// not fail Configure: the account must stay configured so that the daemon can refresh or
// reconnect it through Authorizer; Publish, Lookup and Delete return Auth instead, and a
// token that expires within AttentionWindow is logged as a warning (ExpiryNotice).
func (n *Network) Configure(ctx context.Context, settings map[string]string) error {
	if err := sdk.CheckSettingKeys("linkedin", settings, settingKeys); err != nil {
		return err
	}
	c := &config{configured: true}
	var err error
	if c.apiURL, err = setting.BaseURL("linkedin", settings, "api_url", DefaultAPIURL); err != nil {
		return err
	}
	if c.oauthURL, err = setting.BaseURL("linkedin", settings, "oauth_url", DefaultOAuthURL); err != nil {
		return err
	}
	if c.version = strings.TrimSpace(settings["linkedin_version"]); c.version == "" {
		c.version = DefaultVersion
	}
	if !versionRE.MatchString(c.version) {
		return sdk.Errorf(sdk.Permanent, "linkedin: setting \"linkedin_version\" is %q: write the API version as YYYYMM, e.g. %s", c.version, DefaultVersion)
	}
	if c.author = strings.TrimSpace(settings["author"]); c.author != "" && !authorURN.MatchString(c.author) {
		return sdk.Errorf(sdk.Permanent, "linkedin: setting \"author\" is %q: write urn:li:person:ID for a member or urn:li:organization:ID for a page (the number in the page's admin URL), or leave it out to post as the member who connected", c.author)
	}
	switch c.visibility = strings.ToUpper(strings.TrimSpace(settings["visibility"])); {
	case c.visibility == "":
		c.visibility = "PUBLIC"
	case c.visibility == "CONNECTIONS" && c.organization():
		return sdk.Errorf(sdk.Permanent, "linkedin: setting \"visibility\" is CONNECTIONS, which only a member's posts can have: use PUBLIC for an organization")
	case c.visibility != "PUBLIC" && c.visibility != "CONNECTIONS":
		return sdk.Errorf(sdk.Permanent, "linkedin: setting \"visibility\" is %q: use PUBLIC (anyone) or CONNECTIONS (a member's 1st-degree connections)", settings["visibility"])
	}
	c.clientID, c.clientSecret = strings.TrimSpace(settings["client_id"]), strings.TrimSpace(settings["client_secret"])
	if (c.clientID == "") != (c.clientSecret == "") {
		return sdk.Errorf(sdk.Permanent, "linkedin: set both client_id and client_secret (the Auth tab of the app on LinkedIn's developer portal), or neither")
	}
	c.scopes = strings.FieldsFunc(settings["scopes"], func(r rune) bool { return r == ' ' || r == ',' })
	if c.creds, err = sdk.CredentialsFrom(settings); err != nil {
		return fmt.Errorf("linkedin: %w", err)
	}
	c.token = strings.TrimSpace(c.creds.AccessToken)
	if c.token == "" && c.clientID == "" {
		return sdk.Errorf(sdk.Permanent, "linkedin: no access_token and no client_id: set client_id and client_secret and connect the account (tactctl account connect), or set access_token to a token from LinkedIn's token generator")
	}
	if c.author == "" && authorURN.MatchString(c.creds.Subject) {
		c.author = c.creds.Subject
	}

	if err := n.checkToken(ctx, c); err != nil {
		return err
	}
	// The journal file is named after the author, so one state_dir may serve several
	// accounts. While the author is unknown (a token that cannot say whom it posts as)
	// there is no file: Lookup then answers "cannot tell" rather than "never sent".
	j := journal.Memory[attempt]()
	if dir := settings["state_dir"]; dir != "" && c.author != "" {
		if j, err = journal.Open[attempt](filepath.Join(dir, "linkedin-"+safeName(c.author)+".jsonl"), n.now(), journalOptions); err != nil {
			return sdk.Errorf(sdk.Permanent, "%v", err)
		}
	}
	if msg, ok := ExpiryNotice(c.creds, n.now()); ok {
		n.log.Warn(msg, "expires_at", c.creds.ExpiresAt, "refresh_expires_at", c.creds.RefreshExpiresAt)
	}
	switch {
	case c.token == "":
		// The connect flow's own process runs without credentials: nothing to warn of.
		n.log.Debug("linkedin: configured without an access token", "reason", c.unusable)
	case c.unusable != "":
		n.log.Warn("linkedin: the account cannot publish until a person acts", "reason", c.unusable)
	}

	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	n.journal = j
	n.conf.Store(c)
	return nil
}

// checkToken learns what it can about c's token: whether LinkedIn still takes it
// (introspection, when the app's credentials are set), when it expires, and whom it posts
// as when author is not set (the OpenID userinfo endpoint). What makes the token unusable
// goes to c.unusable; only a failure to reach LinkedIn is returned.
func (n *Network) checkToken(ctx context.Context, c *config) error {
	if c.token == "" {
		c.unusable = "the account is not connected yet: connect it (tactctl account connect) or set access_token"
		return nil
	}
	if exp := c.creds.ExpiresAt; !exp.IsZero() && !n.now().Before(exp) {
		c.unusable = fmt.Sprintf("the access token expired on %s: connect the account again (tactctl account connect)", exp.UTC().Format(time.DateOnly))
		return nil
	}
	if c.clientID != "" {
		n.introspect(ctx, c)
		if c.unusable != "" {
			return nil
		}
	}
	if c.author != "" {
		return nil
	}
	who, err := n.userinfo(ctx, c, c.token)
	var e *sdk.Error
	switch {
	case errors.As(err, &e) && e.Kind == sdk.Auth:
		c.unusable = "LinkedIn cannot tell whom the token posts as (" + e.Message + "): set author to urn:li:person:ID, or connect again with the openid and profile scopes"
		return nil
	case err != nil:
		return err
	}
	c.author = who.urn()
	return nil
}

// introspect asks LinkedIn about the token (POST /oauth/v2/introspectToken). A failure to
// ask is only logged: the token may be fine, and posting will tell.
func (n *Network) introspect(ctx context.Context, c *config) {
	var out struct {
		Active    bool   `json:"active"`
		Status    string `json:"status"`
		Scope     string `json:"scope"`
		ExpiresAt int64  `json:"expires_at"`
	}
	form := url.Values{"client_id": {c.clientID}, "client_secret": {c.clientSecret}, "token": {c.token}}
	_, _, err := n.do(ctx, "POST /oauth/v2/introspectToken", request{method: http.MethodPost, url: c.oauthURL + "/oauth/v2/introspectToken",
		body: []byte(form.Encode()), ctype: "application/x-www-form-urlencoded", out: &out})
	if err != nil {
		n.log.Warn("linkedin: could not check the access token with LinkedIn", "err", err)
		return
	}
	if c.creds.ExpiresAt.IsZero() && out.ExpiresAt > 0 {
		c.creds.ExpiresAt = time.Unix(out.ExpiresAt, 0).UTC()
	}
	if !out.Active {
		status := out.Status
		if status == "" {
			status = "not active"
		}
		c.unusable = "LinkedIn says the access token is " + status + ": connect the account again (tactctl account connect)"
		return
	}
	if out.Scope != "" {
		granted := strings.Split(out.Scope, ",")
		need := "w_member_social"
		if c.organization() {
			need = "w_organization_social"
		}
		if !slices.Contains(granted, need) {
			c.unusable = fmt.Sprintf("the access token was granted %s, without %s, which posting as %s needs: connect the account again with it", out.Scope, need, c.author)
		}
	}
}

// usable is the configuration to publish with, or why there is none: Auth when the
// account needs a person.
func (n *Network) usable(call string) (*config, error) {
	c := n.cfg()
	switch {
	case !c.configured:
		return nil, fmt.Errorf("linkedin: %s called before Configure", call)
	case c.unusable != "":
		return nil, sdk.Errorf(sdk.Auth, "linkedin: %s", c.unusable)
	case !c.creds.ExpiresAt.IsZero() && !n.now().Before(c.creds.ExpiresAt):
		return nil, sdk.Errorf(sdk.Auth, "linkedin: the access token expired on %s: connect the account again (tactctl account connect)", c.creds.ExpiresAt.UTC().Format(time.DateOnly))
	case c.author == "":
		return nil, sdk.Errorf(sdk.Auth, "linkedin: the author is not known: set author, or connect the account")
	}
	return c, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

func safeName(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// millis reads LinkedIn's epoch milliseconds.
func millis(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

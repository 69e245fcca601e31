// Package facebook publishes to a Facebook Page through the Graph API, with its version
// pinned (setting graph_version, default DefaultVersion): POST /{page-id}/feed for text
// and links, POST /{page-id}/photos for one photo, and several photos uploaded unpublished
// then attached to a feed post (attached_media). It posts with a Page access token, which
// accounts get by connecting through Facebook Login (Authorizer): the code is exchanged
// for a user token, that one for a long-lived user token, and /me/accounts gives the
// Page's token, which does not expire. docs/networks/facebook.md is the user's side of
// all this.
//
// Idempotency. The Graph API takes no idempotency key. Before a post is sent the plugin
// appends the key, the time and a hash of the text to a journal in state_dir (synced to
// disk); after Facebook answers it appends the receipt, or that Facebook refused the post
// (an answer that says nothing was made). Lookup, in whatever process the daemon runs it
// after a crash:
//   - a key absent from the journal, or refused, was never published: not found;
//   - a key with a receipt was published: that receipt;
//   - a key sent but never answered is searched among the Page's own posts since then
//     (GET /{page-id}/published_posts?since=…, minus five minutes of clock skew; the
//     Page's posts only, not visitors'), matching the text as Facebook keeps it and
//     skipping posts other keys own. A match is the receipt; no post since means it was
//     never published. Posts in the window that match nothing (made by hand?), more than
//     the plugin reads, or a token that may not read the Page's posts make Lookup answer
//     "cannot tell", and the daemon marks the post unknown for a person rather than post
//     it twice.
//
// A second net: Facebook refuses a text post identical to the Page's last one (error
// 506). When the post being sent again is one this key sent before without an answer,
// that refusal means the first one went out: the plugin searches for it again and, if
// it still cannot see it, answers "cannot tell".
//
// Without state_dir the journal lives in memory: Lookup answers for keys this process
// sent and "cannot tell" for any other.
package facebook

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
	// DefaultVersion is the Graph API version the plugin speaks unless graph_version says
	// otherwise. Meta serves each version for about two years after the next one comes out.
	DefaultVersion = "v26.0"
	// DefaultGraphURL and DefaultDialogURL are Facebook's hosts; the settings graph_url and
	// dialog_url exist for tests and proxies.
	DefaultGraphURL  = "https://graph.facebook.com"
	DefaultDialogURL = "https://www.facebook.com"

	maxMessage = 63206    // characters in a post's text
	maxPhotos  = 10       // photos in one post: tact's bound, Facebook documents none
	maxPhoto   = 10 << 20 // bytes in a photo ("Files can not exceed 10MB")
	// scanPages and scanPageSize bound the posts Lookup reads to find an interrupted publish.
	scanPages    = 4
	scanPageSize = 100
	clockSkew    = 5 * time.Minute
	// AttentionWindow is how long before a token's end the account needs a person. Page
	// tokens from connecting do not expire; a pasted one may.
	AttentionWindow = 7 * 24 * time.Hour
)

var (
	// photoTypes are what Facebook takes (JPEG, BMP, PNG, GIF, TIFF) among the types the
	// daemon sniffs from an upload.
	photoTypes  = []string{"image/jpeg", "image/png", "image/gif"}
	settingKeys = []string{
		"page_id", "graph_version", "state_dir",
		"client_id", "client_secret", "scopes", "config_id",
		sdk.SettingAccessToken, sdk.SettingRefreshToken, sdk.SettingExpiresAt, sdk.SettingRefreshExpiresAt, sdk.SettingSubject,
		"graph_url", "dialog_url",
	}
	secretKeys   = []string{"client_secret", sdk.SettingAccessToken, sdk.SettingRefreshToken}
	capabilities = []string{"delete", "lookup", "media", "oauth"}

	pageIDRE  = regexp.MustCompile(`^[0-9]+$`)
	postIDRE  = regexp.MustCompile(`^[0-9]+_[0-9]+$`)
	versionRE = regexp.MustCompile(`^v[1-9][0-9]*\.[0-9]+$`)
)

// config is what Configure accepted; replaced whole, never changed.
type config struct {
	configured          bool
	graphURL, dialogURL string
	version             string
	pageID              string
	clientID            string
	clientSecret        string
	scopes              []string
	configID            string
	token               string
	creds               sdk.Credentials
	// unusable says why the token cannot publish, as learnt at Configure ("" if it can as
	// far as tact knows): Publish, Lookup and Delete return it as Auth.
	unusable string
}

// Network is one Facebook Page. Create it with New; the zero value is not usable.
type Network struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

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

// New returns an unconfigured Facebook network.
func New(opts ...Option) *Network {
	n := &Network{
		client:  &http.Client{Timeout: 2 * time.Minute},
		now:     time.Now,
		log:     slog.Default(),
		journal: journal.Memory[attempt](),
	}
	n.conf.Store(&config{graphURL: DefaultGraphURL, dialogURL: DefaultDialogURL, version: DefaultVersion})
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

// Describe reports Facebook's limits: 63,206 characters, up to 10 JPEG, PNG or GIF photos.
func (n *Network) Describe(ctx context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name:          "facebook",
		Version:       Version,
		MaxLength:     maxMessage,
		Counting:      sdk.CountRunes,
		MaxMedia:      maxPhotos,
		MediaTypes:    slices.Clone(photoTypes),
		Capabilities:  slices.Clone(capabilities),
		SettingsKeys:  slices.Clone(settingKeys),
		SecretSetting: slices.Clone(secretKeys),
	}, nil
}

// Configure checks the settings, asks Facebook whom the token posts as, and opens the
// journal. A bad setting is Permanent. A token that is expired, revoked or not the Page's
// does not fail Configure: the account must stay configured so that the daemon can
// connect it again through Authorizer; Publish, Lookup and Delete return Auth instead.
func (n *Network) Configure(ctx context.Context, settings map[string]string) error {
	if err := sdk.CheckSettingKeys("facebook", settings, settingKeys); err != nil {
		return err
	}
	c := &config{configured: true}
	var err error
	if c.graphURL, err = setting.BaseURL("facebook", settings, "graph_url", DefaultGraphURL); err != nil {
		return err
	}
	if c.dialogURL, err = setting.BaseURL("facebook", settings, "dialog_url", DefaultDialogURL); err != nil {
		return err
	}
	if c.version = strings.TrimSpace(settings["graph_version"]); c.version == "" {
		c.version = DefaultVersion
	}
	if !versionRE.MatchString(c.version) {
		return sdk.Errorf(sdk.Permanent, "facebook: setting \"graph_version\" is %q: write the Graph API version as vNN.N, e.g. %s", c.version, DefaultVersion)
	}
	if c.pageID = strings.TrimSpace(settings["page_id"]); c.pageID != "" && !pageIDRE.MatchString(c.pageID) {
		return sdk.Errorf(sdk.Permanent, "facebook: setting \"page_id\" is %q: write the Page's numeric id (the Page's About tab, Page transparency, shows it), not its name or address", c.pageID)
	}
	c.clientID, c.clientSecret = strings.TrimSpace(settings["client_id"]), strings.TrimSpace(settings["client_secret"])
	if (c.clientID == "") != (c.clientSecret == "") {
		return sdk.Errorf(sdk.Permanent, "facebook: set both client_id and client_secret (the App ID and App Secret in the app's Settings > Basic on developers.facebook.com), or neither")
	}
	c.scopes = strings.FieldsFunc(settings["scopes"], func(r rune) bool { return r == ' ' || r == ',' })
	if c.configID = strings.TrimSpace(settings["config_id"]); c.configID != "" && len(c.scopes) > 0 {
		return sdk.Errorf(sdk.Permanent, "facebook: set config_id (a Facebook Login for Business configuration, which names its permissions) or scopes, not both")
	}
	if c.creds, err = sdk.CredentialsFrom(settings); err != nil {
		return fmt.Errorf("facebook: %w", err)
	}
	c.token = strings.TrimSpace(c.creds.AccessToken)
	switch {
	case c.token == "" && c.clientID == "":
		return sdk.Errorf(sdk.Permanent, "facebook: no access_token and no client_id: set client_id and client_secret and connect the account (tactctl account connect), or set access_token to a Page access token with page_id")
	case c.token != "" && c.pageID == "":
		return sdk.Errorf(sdk.Permanent, "facebook: access_token is set without page_id: set page_id to the Page's numeric id, or connect the account (tactctl account connect), which sets both")
	}
	if err := n.checkToken(ctx, c); err != nil {
		return err
	}
	// The journal file is named after the Page, so one state_dir may serve several
	// accounts. Without a Page there is no file: Lookup then answers "cannot tell"
	// rather than "never sent".
	j := journal.Memory[attempt]()
	if dir := settings["state_dir"]; dir != "" && c.pageID != "" {
		if j, err = journal.Open[attempt](filepath.Join(dir, "facebook-"+c.pageID+".jsonl"), n.now(), journalOptions); err != nil {
			return sdk.Errorf(sdk.Permanent, "%v", err)
		}
	}
	if msg, ok := ExpiryNotice(c.creds, n.now()); ok {
		n.log.Warn(msg, "expires_at", c.creds.ExpiresAt)
	}
	switch {
	case c.token == "":
		// The connect flow's own process runs without credentials: nothing to warn of.
		n.log.Debug("facebook: configured without an access token", "reason", c.unusable)
	case c.unusable != "":
		n.log.Warn("facebook: the account cannot publish until a person acts", "reason", c.unusable)
	}

	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	n.journal = j
	n.conf.Store(c)
	return nil
}

// checkToken learns what it can about c's token: whether Facebook still takes it and
// whether it is the Page's (GET /me, which a Page token answers as the Page). What makes
// the token unusable goes to c.unusable. A failure to ask is only logged: the token may be
// fine, and posting will tell.
func (n *Network) checkToken(ctx context.Context, c *config) error {
	if c.token == "" {
		c.unusable = "the account is not connected yet: connect it (tactctl account connect) or set access_token to a Page access token"
		return nil
	}
	if exp := c.creds.ExpiresAt; !exp.IsZero() && !n.now().Before(exp) {
		c.unusable = fmt.Sprintf("the access token expired on %s: connect the account again (tactctl account connect)", exp.UTC().Format(time.DateOnly))
		return nil
	}
	var me struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	_, err := n.graph(ctx, c, c.token, http.MethodGet, "/me", url.Values{"fields": {"id,name"}}, &me)
	var e *sdk.Error
	switch {
	case errors.As(err, &e) && e.Kind == sdk.Auth:
		c.unusable = e.Message
	case err != nil:
		n.log.Warn("facebook: could not check the access token with Facebook", "err", err)
	case me.ID != c.pageID:
		c.unusable = fmt.Sprintf("the access token acts as %s (%s), not as the Page %s: it is a user token or another Page's; connect the account again (tactctl account connect), or set access_token to this Page's token", me.ID, me.Name, c.pageID)
	}
	return nil
}

// ExpiryNotice says when c's access token runs out within AttentionWindow (or has run
// out), as a sentence for the account's "needs attention", and ok. A Page token from
// connecting never expires: "", false. The plugin logs it at Configure.
func ExpiryNotice(c sdk.Credentials, now time.Time) (string, bool) {
	if c.ExpiresAt.IsZero() {
		return "", false
	}
	date := c.ExpiresAt.UTC().Format(time.DateOnly)
	switch left := c.ExpiresAt.Sub(now); {
	case left <= 0:
		return fmt.Sprintf("facebook: the access token expired on %s: connect the account again (tactctl account connect)", date), true
	case left <= AttentionWindow:
		days := int(left.Hours()/24 + 0.5)
		return fmt.Sprintf("facebook: the access token expires on %s (in %d days): connect the account (tactctl account connect), which gives a Page token that does not expire", date, days), true
	}
	return "", false
}

// usable is the configuration to publish with, or why there is none: Auth when the
// account needs a person.
func (n *Network) usable(call string) (*config, error) {
	c := n.cfg()
	switch {
	case !c.configured:
		return nil, fmt.Errorf("facebook: %s called before Configure", call)
	case c.unusable != "":
		return nil, sdk.Errorf(sdk.Auth, "facebook: %s", strings.TrimPrefix(c.unusable, "facebook: "))
	case !c.creds.ExpiresAt.IsZero() && !n.now().Before(c.creds.ExpiresAt):
		return nil, sdk.Errorf(sdk.Auth, "facebook: the access token expired on %s: connect the account again (tactctl account connect)", c.creds.ExpiresAt.UTC().Format(time.DateOnly))
	case c.pageID == "":
		return nil, sdk.Errorf(sdk.Auth, "facebook: the Page is not known: set page_id, or connect the account")
	}
	return c, nil
}

// Package wordpress publishes blog posts to a WordPress site through its REST API (the
// wp/v2 namespace, WordPress 5.6 or later for Application Passwords), authenticated with an
// Application Password over HTTP Basic. docs/networks/wordpress.md is the user's side of
// all this.
//
// A tact post becomes one WordPress post (POST /wp/v2/posts): the text's first line is
// the title (setting title = "none" keeps the whole text as content and leaves the title
// empty), the rest is the content as HTML paragraphs, the link a last paragraph. The first
// image is uploaded to the media library (POST /wp/v2/media, the raw bytes with
// Content-Disposition and Content-Type) and becomes the featured image; further images
// are uploaded the same way and shown in the content. Categories and tags are named in the
// settings and resolved to their ids when the account is configured; a name the blog does
// not have is refused there, unless create_terms is set, in which case it is created at
// the first publish that needs it.
//
// Idempotency. Every post is created with a slug derived from the idempotency key
// (Slug: "tact-" and 24 hex digits of its SHA-256). Publish and Lookup ask WordPress for
// a post with that slug in any status but the trash (GET /wp/v2/posts?slug=…&status=any
// &context=edit) before anything else, so a publish whose answer was lost, in this process
// or an earlier one, is found and never sent twice. WordPress is one database: a post it
// created is listed at once. No journal is needed.
package wordpress

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/internal/weblink"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

const (
	// maxImages is tact's bound, not WordPress's (which has none): one featured image and
	// nine in the text make a long post already.
	maxImages = 10
	// defaultUploadMB is what PHP's post_max_size is unless the host raised it (Debian's
	// and PHP's own php.ini both say 8M): a larger upload reaches WordPress empty.
	defaultUploadMB = 8
	maxAltText      = 1000
)

var (
	// imageTypes are the image types a WordPress 5.8+ media library accepts by default.
	imageTypes  = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}
	settingKeys = []string{
		"site", "user", "app_password", "status", "schedule_delay", "title",
		"categories", "tags", "create_terms", "delete", "max_upload_mb",
	}
	secretKeys   = []string{"app_password"}
	capabilities = []string{"delete", "lookup", "media"}
	statuses     = []string{"publish", "future", "draft", "pending"}
)

// config is what Configure accepted; replaced whole, never changed.
type config struct {
	configured    bool
	site          string // as the settings say it, for messages
	root          *url.URL
	user, pass    string
	status        string
	delay         time.Duration
	firstLine     bool // the first line is the title
	categories    []string
	tags          []string
	createTerms   bool
	force         bool // delete for good, not to the trash
	maxUpload     int64
	canUpload     bool
	canPublish    bool
	displayedUser string
}

// Network is one WordPress account. Create it with New; the zero value is not usable.
type Network struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	conf atomic.Pointer[config]

	// publishMu serialises Publish: the look-up by slug and the create must not interleave
	// with another call for the same key.
	publishMu sync.Mutex
	termsMu   sync.Mutex
	terms     map[string]int // "categories/Name" -> id, learnt or created
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

// New returns an unconfigured WordPress network.
func New(opts ...Option) *Network {
	n := &Network{
		client: &http.Client{Timeout: 2 * time.Minute},
		now:    time.Now,
		log:    slog.Default(),
		terms:  map[string]int{},
	}
	n.conf.Store(&config{})
	for _, o := range opts {
		o(n)
	}
	return n
}

var _ sdk.Network = (*Network)(nil)

func (n *Network) cfg() *config { return n.conf.Load() }

// Describe reports what tact posts to WordPress: no length limit, up to 10 JPEG, PNG, GIF
// or WebP images.
func (n *Network) Describe(ctx context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name:          "wordpress",
		Version:       Version,
		Counting:      sdk.CountRunes,
		MaxMedia:      maxImages,
		MediaTypes:    slices.Clone(imageTypes),
		Capabilities:  slices.Clone(capabilities),
		SettingsKeys:  slices.Clone(settingKeys),
		SecretSetting: slices.Clone(secretKeys),
	}, nil
}

// Configure checks the settings, finds the site's REST API, checks the Application
// Password (GET /wp/v2/users/me) and resolves the categories and tags. A bad setting is
// Permanent; a refused password is Auth; a site that cannot be reached is Retryable.
func (n *Network) Configure(ctx context.Context, settings map[string]string) error {
	if err := sdk.CheckSettingKeys("wordpress", settings, settingKeys); err != nil {
		return err
	}
	c := &config{configured: true, maxUpload: defaultUploadMB << 20, firstLine: true}
	site := strings.TrimRight(strings.TrimSpace(settings["site"]), "/")
	u, err := url.Parse(site)
	switch {
	case site == "":
		return sdk.Errorf(sdk.Permanent, "wordpress: setting \"site\" is missing: write the blog's address, e.g. https://blog.example")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil:
		return sdk.Errorf(sdk.Permanent, "wordpress: setting \"site\" (%s) is not an http:// or https:// address: write the blog's address, e.g. https://blog.example (user and password go in user and app_password)", redact.SecretURL(site))
	}
	c.site = site
	if c.user = strings.TrimSpace(settings["user"]); c.user == "" {
		return sdk.Errorf(sdk.Permanent, "wordpress: setting \"user\" is missing: write the WordPress user name the Application Password belongs to")
	}
	// WordPress shows the password in groups of four; it takes it with or without spaces.
	if c.pass = strings.ReplaceAll(strings.TrimSpace(settings["app_password"]), " ", ""); c.pass == "" {
		return sdk.Errorf(sdk.Permanent, "wordpress: setting \"app_password\" is missing: create one under Users → Profile → Application Passwords and set app_password = \"env:NAME\" or \"file:/path\"")
	}
	switch c.status = strings.ToLower(strings.TrimSpace(settings["status"])); {
	case c.status == "":
		c.status = "publish"
	case !slices.Contains(statuses, c.status):
		return sdk.Errorf(sdk.Permanent, "wordpress: setting \"status\" is %q: use publish (the default), future (scheduled on the blog schedule_delay later), draft or pending (for the blog's editors to review)", settings["status"])
	}
	if d := strings.TrimSpace(settings["schedule_delay"]); d != "" {
		if c.delay, err = time.ParseDuration(d); err != nil || c.delay <= 0 {
			return sdk.Errorf(sdk.Permanent, "wordpress: setting \"schedule_delay\" is %q: write a positive duration such as 30m or 2h", d)
		}
	}
	if c.status == "future" && c.delay == 0 {
		return sdk.Errorf(sdk.Permanent, "wordpress: status is future but schedule_delay is not set: write how long after tact publishes the blog shows the post, e.g. schedule_delay = \"1h\"")
	}
	if c.status != "future" && c.delay != 0 {
		return sdk.Errorf(sdk.Permanent, "wordpress: schedule_delay is set but status is %s: schedule_delay only applies to status = \"future\"", c.status)
	}
	switch t := strings.ToLower(strings.TrimSpace(settings["title"])); t {
	case "", "first_line":
	case "none":
		c.firstLine = false
	default:
		return sdk.Errorf(sdk.Permanent, "wordpress: setting \"title\" is %q: use first_line (the text's first line is the post's title, the default) or none (no title)", settings["title"])
	}
	c.categories, c.tags = names(settings["categories"]), names(settings["tags"])
	if c.createTerms, err = flag(settings, "create_terms"); err != nil {
		return err
	}
	switch d := strings.ToLower(strings.TrimSpace(settings["delete"])); d {
	case "", "trash":
	case "force":
		c.force = true
	default:
		return sdk.Errorf(sdk.Permanent, "wordpress: setting \"delete\" is %q: use trash (the default: a person can restore the post for 30 days) or force (deleted for good)", settings["delete"])
	}
	if v := strings.TrimSpace(settings["max_upload_mb"]); v != "" {
		mb, err := strconv.Atoi(v)
		if err != nil || mb < 1 || mb > 4096 {
			return sdk.Errorf(sdk.Permanent, "wordpress: setting \"max_upload_mb\" is %q: write the blog's largest upload in MiB (1 to 4096), what its PHP post_max_size allows", v)
		}
		c.maxUpload = int64(mb) << 20
	}

	if c.root, err = n.discover(ctx, c); err != nil {
		return err
	}
	if err := n.checkUser(ctx, c); err != nil {
		return err
	}
	n.termsMu.Lock()
	n.terms = map[string]int{}
	n.termsMu.Unlock()
	if err := n.resolveTerms(ctx, c, false); err != nil {
		return err
	}
	n.conf.Store(c)
	return nil
}

func names(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func flag(settings map[string]string, key string) (bool, error) {
	switch v := strings.ToLower(strings.TrimSpace(settings[key])); v {
	case "", "false", "no":
		return false, nil
	case "true", "yes":
		return true, nil
	}
	return false, sdk.Errorf(sdk.Permanent, "wordpress: setting %q is %q: write true or false", key, settings[key])
}

// discover finds the REST API's root the way WordPress advertises it: the Link header
// with rel="https://api.w.org/" on the site's pages. A site without pretty permalinks
// advertises https://blog.example/?rest_route=/; one that advertises nothing is tried at
// /wp-json/.
func (n *Network) discover(ctx context.Context, c *config) (*url.URL, error) {
	site, _ := url.Parse(c.site + "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, site.String(), nil)
	if err != nil {
		return nil, sdk.Errorf(sdk.Permanent, "wordpress: site %s: %v", redact.SecretURL(c.site), err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, sdk.Errorf(sdk.Retryable, "wordpress: cannot reach %s: %v", c.site, redact.Error(err, c.site))
	}
	resp.Body.Close()
	for _, l := range weblink.ParseHeader(resp.Header.Values("Link")) {
		if l.Rel("https://api.w.org/") {
			if u, err := resp.Request.URL.Parse(l.URL); err == nil {
				return u, nil
			}
		}
	}
	return site.Parse("wp-json/")
}

const userAgent = "tact-plugin-wordpress/" + Version

// checkUser asks who the password is (GET /wp/v2/users/me?context=edit) and what that
// user may do.
func (n *Network) checkUser(ctx context.Context, c *config) error {
	var me struct {
		Username     string          `json:"username"`
		Name         string          `json:"name"`
		Capabilities map[string]bool `json:"capabilities"`
	}
	if err := n.call(ctx, c, http.MethodGet, "/wp/v2/users/me", url.Values{"context": {"edit"}}, nil, &me); err != nil {
		return err
	}
	c.displayedUser = me.Username
	if c.displayedUser == "" {
		c.displayedUser = c.user
	}
	c.canUpload = me.Capabilities["upload_files"]
	c.canPublish = me.Capabilities["publish_posts"]
	if !me.Capabilities["edit_posts"] {
		return sdk.Errorf(sdk.Auth, "wordpress: user %s may not write posts on %s: give the user the Author role or higher (Users → All Users → Role)", c.displayedUser, c.site)
	}
	if !c.canPublish && (c.status == "publish" || c.status == "future") {
		return sdk.Errorf(sdk.Auth, "wordpress: user %s may not publish posts on %s (a Contributor): give the user the Author role or higher, or set status = \"pending\" for an editor to publish them", c.displayedUser, c.site)
	}
	return nil
}

// termRoutes are the two taxonomies a post takes by name.
var termRoutes = map[string]string{"categories": "category", "tags": "tag"}

// resolveTerms finds the ids of c's categories and tags. A name the blog does not have is
// created when create is true (at publish time, with create_terms); otherwise it is a
// Permanent error unless create_terms will create it later.
func (n *Network) resolveTerms(ctx context.Context, c *config, create bool) error {
	var missing []string
	for _, route := range []string{"categories", "tags"} {
		list := c.categories
		if route == "tags" {
			list = c.tags
		}
		for _, name := range list {
			if _, ok := n.termID(route, name); ok {
				continue
			}
			id, err := n.findTerm(ctx, c, route, name)
			if err != nil {
				return err
			}
			if id == 0 && create {
				if id, err = n.createTerm(ctx, c, route, name); err != nil {
					return err
				}
			}
			if id == 0 {
				missing = append(missing, fmt.Sprintf("%s %q", termRoutes[route], name))
				continue
			}
			n.termsMu.Lock()
			n.terms[route+"/"+name] = id
			n.termsMu.Unlock()
		}
	}
	if len(missing) > 0 && !c.createTerms {
		return sdk.Errorf(sdk.Permanent, "wordpress: %s has no %s: create them (Posts → Categories, Posts → Tags), correct the names in the account's settings, or set create_terms = true", c.site, strings.Join(missing, ", "))
	}
	return nil
}

func (n *Network) termID(route, name string) (int, bool) {
	n.termsMu.Lock()
	defer n.termsMu.Unlock()
	id, ok := n.terms[route+"/"+name]
	return id, ok
}

// findTerm searches a taxonomy for name, compared as a person reads it (WordPress answers
// names HTML-escaped: "Food &amp; Drink") without regard to case; 0 when there is none.
func (n *Network) findTerm(ctx context.Context, c *config, route, name string) (int, error) {
	var found []struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
		Slug string `json:"slug"`
	}
	q := url.Values{"search": {name}, "per_page": {"100"}, "hide_empty": {"false"}}
	if err := n.call(ctx, c, http.MethodGet, "/wp/v2/"+route, q, nil, &found); err != nil {
		return 0, err
	}
	for _, t := range found {
		if strings.EqualFold(html.UnescapeString(t.Name), name) || strings.EqualFold(t.Slug, name) {
			return t.ID, nil
		}
	}
	return 0, nil
}

// createTerm adds name to a taxonomy. When it exists after all (created meanwhile),
// WordPress answers 400 term_exists with its id.
func (n *Network) createTerm(ctx context.Context, c *config, route, name string) (int, error) {
	var made struct {
		ID int `json:"id"`
	}
	err := n.call(ctx, c, http.MethodPost, "/wp/v2/"+route, nil, map[string]string{"name": name}, &made)
	if f := failureOf(err); f != nil && f.Code == "term_exists" && f.termID() > 0 {
		return f.termID(), nil
	}
	if f := failureOf(err); f != nil && f.Status == http.StatusForbidden {
		return 0, sdk.Errorf(sdk.Auth, "wordpress: user %s may not create the %s %q on %s (create_terms needs an Editor or Administrator; Authors may add tags only): create it on the blog, or give the user that role", c.displayedUser, termRoutes[route], name, c.site)
	}
	if err != nil {
		return 0, err
	}
	n.log.Info("wordpress: created a "+termRoutes[route]+" (create_terms)", "name", name, "id", made.ID)
	return made.ID, nil
}

// usable is the configuration to publish with.
func (n *Network) usable(call string) (*config, error) {
	c := n.cfg()
	if !c.configured {
		return nil, fmt.Errorf("wordpress: %s called before Configure", call)
	}
	return c, nil
}

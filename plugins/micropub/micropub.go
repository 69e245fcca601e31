// Package micropub publishes notes to any IndieWeb site that speaks Micropub (the W3C
// Recommendation of 23 May 2017): an h-entry created at the site's Micropub endpoint with
// a bearer token, the post's address in the answer's Location header, photos uploaded to
// the site's media endpoint. docs/networks/micropub.md is the user's side of all this.
//
// The endpoint is the setting endpoint, or found from the setting site as the
// Recommendation says: the site's rel="micropub" link, in its HTTP Link header first, then
// in its HTML <link> (or <a>) elements, relative to the page. The media endpoint is
// media_endpoint, or what the Micropub endpoint's q=config names; without one, photos are
// sent with the post as a multipart request.
//
// Idempotency. Micropub has no idempotency key. Each post carries an mp-slug derived from
// the key (Slug), which many servers use in the post's address, and the plugin keeps a
// send journal in state_dir: before the post is sent, the key and the time (synced to
// disk); after the server answers, the post's address. Lookup, in whatever process the
// daemon runs it after a crash:
//   - a key absent from the journal was never sent: not found;
//   - a key with an address was published: that receipt;
//   - a key sent but never answered is looked for in the server's recent posts (q=source
//     without a url, the widely implemented "list of posts" extension), matched by its
//     mp-slug or slug property, or by the slug in the post's address. A match is the
//     receipt; anything else (no match, a server without the extension) is "cannot tell",
//     and the daemon marks the post unknown for a person rather than post it twice.
//
// Without state_dir the journal lives in memory: Lookup answers for keys this process sent
// and "cannot tell" for any other.
package micropub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/internal/journal"
	"github.com/tact-hq/tact/plugins/internal/weblink"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

const (
	// maxPhotos is tact's bound: Micropub sets none, and a note with more is rare.
	maxPhotos       = 10
	defaultUploadMB = 10
	maxPage         = 1 << 20 // of the site's page read for discovery
)

var (
	photoTypes  = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}
	settingKeys = []string{"site", "endpoint", "media_endpoint", "token", "format", "category", "state_dir", "max_upload_mb"}
	secretKeys  = []string{"token"}
	// capabilities: delete through action=delete, lookup through the journal.
	capabilities = []string{"delete", "lookup", "media"}
)

// config is what Configure accepted; replaced whole, never changed.
type config struct {
	configured bool
	endpoint   string
	media      string // "" when the server has no media endpoint
	token      string
	json       bool
	categories []string
	maxUpload  int64
	listing    bool // q=config lists "source" among the queries the server takes
}

// Network is one Micropub site. Create it with New; the zero value is not usable.
type Network struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	conf atomic.Pointer[config]

	// mu serialises Publish and Lookup, which read and write the journal around network
	// calls: one key must not be sent twice by two concurrent calls.
	mu      sync.Mutex
	journal *journal.Journal[attempt]
}

// Option changes how New builds a Network.
type Option func(*Network)

// WithHTTPClient sends requests through c (default: a 2-minute timeout).
func WithHTTPClient(c *http.Client) Option { return func(n *Network) { n.client = c } }

// WithClock makes the Network read the time from now (tests; default time.Now).
func WithClock(now func() time.Time) Option { return func(n *Network) { n.now = now } }

// WithLogger logs through l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(n *Network) { n.log = l } }

// New returns an unconfigured Micropub network.
func New(opts ...Option) *Network {
	n := &Network{client: &http.Client{Timeout: 2 * time.Minute}, now: time.Now, log: slog.Default(), journal: journal.Memory[attempt]()}
	n.conf.Store(&config{})
	for _, o := range opts {
		o(n)
	}
	return n
}

var _ sdk.Network = (*Network)(nil)

func (n *Network) cfg() *config { return n.conf.Load() }

// Slug is the mp-slug of the post published with idempotencyKey.
func Slug(idempotencyKey string) string {
	sum := sha256.Sum256([]byte(idempotencyKey))
	return "tact-" + hex.EncodeToString(sum[:8])
}

// Describe reports what tact posts through Micropub: notes of any length with up to 10
// photos.
func (n *Network) Describe(ctx context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name: "micropub", Version: Version, Counting: sdk.CountRunes, MaxMedia: maxPhotos,
		MediaTypes: slices.Clone(photoTypes), Capabilities: slices.Clone(capabilities),
		SettingsKeys: slices.Clone(settingKeys), SecretSetting: slices.Clone(secretKeys),
	}, nil
}

// Configure checks the settings, finds the endpoints and checks the token with q=config.
func (n *Network) Configure(ctx context.Context, settings map[string]string) error {
	if err := sdk.CheckSettingKeys("micropub", settings, settingKeys); err != nil {
		return err
	}
	c := &config{configured: true, json: true, maxUpload: defaultUploadMB << 20}
	if c.token = strings.TrimSpace(settings["token"]); c.token == "" {
		return sdk.Errorf(sdk.Permanent, "micropub: setting \"token\" is missing: get an access token with the create scope from the site's token endpoint (IndieAuth; many sites show one on their settings page) and set token = \"env:NAME\" or \"file:/path\"")
	}
	switch f := strings.ToLower(strings.TrimSpace(settings["format"])); f {
	case "", "json":
	case "form":
		c.json = false
	default:
		return sdk.Errorf(sdk.Permanent, "micropub: setting \"format\" is %q: use json (the default; photos keep their alt text) or form (x-www-form-urlencoded, for servers without JSON)", settings["format"])
	}
	for _, cat := range strings.Split(settings["category"], ",") {
		if cat = strings.TrimSpace(cat); cat != "" {
			c.categories = append(c.categories, cat)
		}
	}
	if v := strings.TrimSpace(settings["max_upload_mb"]); v != "" {
		mb, err := strconv.Atoi(v)
		if err != nil || mb < 1 || mb > 4096 {
			return sdk.Errorf(sdk.Permanent, "micropub: setting \"max_upload_mb\" is %q: write the site's largest upload in MiB (1 to 4096)", v)
		}
		c.maxUpload = int64(mb) << 20
	}
	var err error
	site, endpoint := strings.TrimSpace(settings["site"]), strings.TrimSpace(settings["endpoint"])
	switch {
	case endpoint != "":
		if c.endpoint, err = webURL("endpoint", endpoint); err != nil {
			return err
		}
	case site != "":
		if site, err = webURL("site", site); err != nil {
			return err
		}
		if c.endpoint, err = n.discover(ctx, site); err != nil {
			return err
		}
	default:
		return sdk.Errorf(sdk.Permanent, "micropub: set site to the site's address (its Micropub endpoint is found from its rel=\"micropub\" link), or endpoint to the Micropub endpoint itself")
	}
	if m := strings.TrimSpace(settings["media_endpoint"]); m != "" {
		if c.media, err = webURL("media_endpoint", m); err != nil {
			return err
		}
	}
	if err := n.askConfig(ctx, c); err != nil {
		return err
	}
	j := journal.Memory[attempt]()
	if dir := settings["state_dir"]; dir != "" {
		u, _ := url.Parse(c.endpoint)
		if j, err = journal.Open[attempt](filepath.Join(dir, "micropub-"+safeName(u.Host+u.Path)+".jsonl"), n.now(), journalOptions); err != nil {
			return sdk.Errorf(sdk.Permanent, "%v", err)
		}
	}
	n.mu.Lock()
	n.journal = j
	n.conf.Store(c)
	n.mu.Unlock()
	return nil
}

func webURL(key, v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", sdk.Errorf(sdk.Permanent, "micropub: setting %q (%s) is not an http:// or https:// address", key, redact.SecretURL(v))
	}
	return u.String(), nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

func safeName(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// discover finds the Micropub endpoint of the page at site: a rel="micropub" Link header,
// else a <link> or <a> element with rel="micropub", resolved against the page's final
// address (after redirects) or its <base>.
func (n *Network) discover(ctx context.Context, site string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, site, nil)
	if err != nil {
		return "", sdk.Errorf(sdk.Permanent, "micropub: site %s: %v", redact.SecretURL(site), err)
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("User-Agent", userAgent)
	resp, err := n.client.Do(req)
	if err != nil {
		return "", sdk.Errorf(sdk.Retryable, "micropub: cannot reach %s to find its Micropub endpoint: %v", redact.SecretURL(site), redact.Error(err, site))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return "", sdk.HTTPError(resp.StatusCode, resp.Header, "finding the Micropub endpoint of "+redact.SecretURL(site), n.now())
	}
	page := resp.Request.URL
	for _, l := range weblink.ParseHeader(resp.Header.Values("Link")) {
		if l.Rel("micropub") {
			if u, err := weblink.Resolve(page, l.URL); err == nil {
				return u.String(), nil
			}
		}
	}
	links, base := weblink.ParseHTML(io.LimitReader(resp.Body, maxPage))
	if base != "" {
		if b, err := weblink.Resolve(page, base); err == nil {
			page = b
		}
	}
	for _, l := range links {
		if l.Rel("micropub") {
			if u, err := weblink.Resolve(page, l.URL); err == nil {
				return u.String(), nil
			}
		}
	}
	return "", sdk.Errorf(sdk.Permanent, "micropub: %s names no Micropub endpoint (no rel=\"micropub\" in its Link header or its HTML): check the address, or set endpoint", redact.SecretURL(site))
}

const userAgent = "tact-plugin-micropub/" + Version

// askConfig checks the token and learns the media endpoint and the queries the server
// takes (GET ?q=config). A server that does not answer q=config is not refused: the query
// is a SHOULD, and posting will tell.
func (n *Network) askConfig(ctx context.Context, c *config) error {
	var out struct {
		MediaEndpoint string   `json:"media-endpoint"`
		Q             []string `json:"q"`
	}
	err := n.get(ctx, c, url.Values{"q": {"config"}}, &out)
	switch k := sdk.KindOf(err); {
	case err == nil:
	case k == sdk.Auth || k == sdk.Retryable || k == sdk.RateLimited:
		return err
	default:
		n.log.Info("micropub: the server does not answer q=config; no media endpoint", "err", err)
		return nil
	}
	if c.media == "" && out.MediaEndpoint != "" {
		base, _ := url.Parse(c.endpoint)
		if u, err := weblink.Resolve(base, out.MediaEndpoint); err == nil {
			c.media = u.String()
		}
	}
	c.listing = slices.Contains(out.Q, "source")
	return nil
}

func (n *Network) usable(call string) (*config, error) {
	c := n.cfg()
	if !c.configured {
		return nil, fmt.Errorf("micropub: %s called before Configure", call)
	}
	return c, nil
}

// Package bluesky publishes to a Bluesky account, or any AT Protocol PDS, through XRPC.
//
// Settings: service (the PDS base URL, default https://bsky.social), identifier (handle,
// DID or e-mail), app_password (an app password, not the account password), language
// (BCP 47, used when a post does not say).
//
// A post is an app.bsky.feed.post record made with com.atproto.repo.createRecord. Its
// link, when the text does not already contain it, is appended to the text on a line of
// its own and gets a link facet, like every URL in the text; it is not sent as an
// app.bsky.embed.external card, because a card needs a title and description tact does
// not have and would take the one embed slot that images use. Mentions of handles that
// resolve get mention facets. Facet ranges are UTF-8 byte offsets. Images are uploaded
// with uploadBlob and attached as app.bsky.embed.images.
//
// Idempotency: the record key is derived from the idempotency key (RecordKey), so a
// repeated publish cannot make a second post: the PDS refuses the duplicate record key
// (today with a 500, later with a typed error), and the plugin then reads the record with
// getRecord and returns the original receipt. Lookup is getRecord on that key, which works
// in any process: found, or RecordNotFound (never published).
//
// Sessions: createSession at Configure; when the PDS answers ExpiredToken the session is
// renewed with refreshSession, or createSession if the refresh token is refused, and the
// call is made once more. Only when that fails is the error Auth.
package bluesky

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rivo/uniseg"
	"golang.org/x/text/language"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

const (
	// DefaultService is the PDS used when the service setting is empty.
	DefaultService = "https://bsky.social"
	maxGraphemes   = 300
	maxBytes       = 3000
	maxImages      = 4
	maxImageBytes  = 1_000_000 // app.bsky.embed.images: image maxSize
	postCollection = "app.bsky.feed.post"
)

var (
	imageTypes  = []string{"image/jpeg", "image/png", "image/webp", "image/gif"}
	settingKeys = []string{"service", "identifier", "app_password", "language"}
)

// account is the configuration Configure accepted; replaced whole, never mutated.
type account struct {
	service, identifier, password, language string
}

// Network is one Bluesky account. Create it with New.
type Network struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	acct atomic.Pointer[account]

	sessMu sync.Mutex // guards sess; held while renewing so one renewal serves all callers
	sess   session
}

// Option changes how New builds a Network.
type Option func(*Network)

// WithHTTPClient sends requests through c (default: a client with a 2-minute timeout).
func WithHTTPClient(c *http.Client) Option { return func(n *Network) { n.client = c } }

// WithClock makes the Network read the time from now (tests; default time.Now).
func WithClock(now func() time.Time) Option { return func(n *Network) { n.now = now } }

// WithLogger logs through l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(n *Network) { n.log = l } }

// New returns an unconfigured Bluesky network.
func New(opts ...Option) *Network {
	n := &Network{client: &http.Client{Timeout: 2 * time.Minute}, now: time.Now, log: slog.Default()}
	n.acct.Store(&account{service: DefaultService})
	for _, o := range opts {
		o(n)
	}
	return n
}

var _ sdk.Network = (*Network)(nil)

func (n *Network) account() *account { return n.acct.Load() }

// Describe reports Bluesky's limits: 300 graphemes, four images.
func (n *Network) Describe(ctx context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name:          "bluesky",
		Version:       Version,
		MaxLength:     maxGraphemes,
		Counting:      sdk.CountGraphemes,
		MaxMedia:      maxImages,
		MediaTypes:    slices.Clone(imageTypes),
		Capabilities:  []string{"delete", "lookup", "media"},
		SettingsKeys:  slices.Clone(settingKeys),
		SecretSetting: []string{"app_password"},
	}, nil
}

// Configure checks the settings and logs in. Refused credentials are an Auth error.
func (n *Network) Configure(ctx context.Context, settings map[string]string) error {
	if err := sdk.CheckSettingKeys("bluesky", settings, settingKeys); err != nil {
		return err
	}
	a := &account{service: strings.TrimRight(strings.TrimSpace(settings["service"]), "/")}
	if a.service == "" {
		a.service = DefaultService
	}
	if u, err := url.Parse(a.service); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// Not repeated in full: a value read from env: may be a secret (docs/operations.md, "Secrets").
		return sdk.Errorf(sdk.Permanent, "bluesky: setting \"service\" (%s) is not an http:// or https:// URL with a host: set it to the PDS base URL, e.g. %s", redact.SecretURL(a.service), DefaultService)
	}
	if a.identifier = strings.TrimPrefix(strings.TrimSpace(settings["identifier"]), "@"); a.identifier == "" {
		return sdk.Errorf(sdk.Permanent, "bluesky: setting \"identifier\" is empty: set it to the account's handle (e.g. brand.bsky.social) or DID")
	}
	if a.password = strings.TrimSpace(settings["app_password"]); a.password == "" {
		return sdk.Errorf(sdk.Permanent, "bluesky: setting \"app_password\" is empty: create an app password in Bluesky's settings and set it (e.g. app_password = \"env:TACT_BLUESKY_PASSWORD\")")
	}
	if l := settings["language"]; l != "" {
		t, err := language.Parse(l)
		if err != nil {
			return sdk.Errorf(sdk.Permanent, "bluesky: setting \"language\" is %q: use a language tag such as en or pt-BR", l)
		}
		a.language = t.String()
	}
	probe := &Network{client: n.client, now: n.now, log: n.log}
	probe.acct.Store(a)
	s, err := probe.login(ctx)
	if err != nil {
		return err
	}
	n.sessMu.Lock()
	defer n.sessMu.Unlock()
	n.acct.Store(a)
	n.sess = s
	return nil
}

func (n *Network) did() string {
	n.sessMu.Lock()
	defer n.sessMu.Unlock()
	return n.sess.DID
}

// Validate lists what Bluesky would refuse: over 300 graphemes or 3000 bytes (the link
// included when it is appended), more than four images, other media types, large files.
func (n *Network) Validate(ctx context.Context, p sdk.Post) ([]sdk.Problem, error) {
	var problems []sdk.Problem
	text := sdk.TextWithLink(p)
	if strings.TrimSpace(text) == "" && len(p.Media) == 0 {
		problems = append(problems, sdk.Problem{Field: "text", Message: "the post is empty: write a text or attach an image"})
	}
	if g := uniseg.GraphemeClusterCount(text); g > maxGraphemes {
		problems = append(problems, sdk.Problem{Field: "text", Message: fmt.Sprintf("is %d characters (graphemes, the link included); Bluesky allows %d: shorten it by %d", g, maxGraphemes, g-maxGraphemes)})
	} else if len(text) > maxBytes {
		problems = append(problems, sdk.Problem{Field: "text", Message: fmt.Sprintf("is %d bytes in UTF-8; Bluesky allows %d: shorten it", len(text), maxBytes)})
	}
	if p.Link != "" {
		if u, err := url.Parse(p.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, sdk.Problem{Field: "link", Message: fmt.Sprintf("%q is not an http(s) URL", p.Link)})
		}
	}
	if len(p.Media) > maxImages {
		problems = append(problems, sdk.Problem{Field: "media", Message: fmt.Sprintf("%d attachments; Bluesky allows %d images per post: remove %d", len(p.Media), maxImages, len(p.Media)-maxImages)})
	}
	for i, m := range p.Media {
		problems = append(problems, mediaProblems(i, m)...)
	}
	return problems, nil
}

// postRecord is an app.bsky.feed.post record.
type postRecord struct {
	Type      string          `json:"$type"`
	Text      string          `json:"text"`
	CreatedAt string          `json:"createdAt"`
	Langs     []string        `json:"langs,omitempty"`
	Facets    []Facet         `json:"facets,omitempty"`
	Embed     json.RawMessage `json:"embed,omitempty"`
}

// Publish creates the post under the record key derived from idempotencyKey.
func (n *Network) Publish(ctx context.Context, p sdk.Post, idempotencyKey string) (sdk.Receipt, error) {
	if idempotencyKey == "" {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "bluesky: Publish called without an idempotency key")
	}
	did := n.did()
	if did == "" {
		return sdk.Receipt{}, errors.New("bluesky: Publish called before Configure")
	}
	problems, err := n.Validate(ctx, p)
	if err != nil {
		return sdk.Receipt{}, err
	}
	if len(problems) > 0 {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "bluesky: Bluesky would refuse this post: %s", sdk.JoinProblems(problems))
	}
	if len(p.Media) > 0 {
		// Uploading images for a post that already exists would only leave orphan blobs.
		if r, found, err := n.Lookup(ctx, idempotencyKey); err == nil && found {
			return r, nil
		}
	}

	text := sdk.TextWithLink(p)
	rec := postRecord{Type: postCollection, Text: text, CreatedAt: n.now().UTC().Format("2006-01-02T15:04:05.000Z")}
	if rec.Facets, err = facets(ctx, text, n.resolveHandle); err != nil {
		return sdk.Receipt{}, err
	}
	if lang := p.Language; lang != "" {
		rec.Langs = []string{lang}
	} else if lang := n.account().language; lang != "" {
		rec.Langs = []string{lang}
	}
	if len(p.Media) > 0 {
		if rec.Embed, err = n.imagesEmbed(ctx, p.Media); err != nil {
			return sdk.Receipt{}, err
		}
	}
	rkey := RecordKey(idempotencyKey)
	var out struct {
		URI string `json:"uri"`
		CID string `json:"cid"`
	}
	err = n.postJSON(ctx, "com.atproto.repo.createRecord", map[string]any{
		"repo": did, "collection": postCollection, "rkey": rkey, "record": rec,
	}, &out)
	if err != nil {
		if k := sdk.KindOf(err); k == sdk.Auth || k == sdk.RateLimited {
			return sdk.Receipt{}, err
		}
		// The key may already hold our post: a repeat, or an earlier attempt whose answer
		// was lost. PDSes refuse a duplicate key with a 500 or a 400, so check either way.
		if r, found, lerr := n.Lookup(ctx, idempotencyKey); lerr == nil && found {
			return r, nil
		}
		return sdk.Receipt{}, err
	}
	if out.URI == "" {
		out.URI = "at://" + did + "/" + postCollection + "/" + rkey
	}
	return n.receipt(out.URI, rkey, rec.CreatedAt), nil
}

func (n *Network) receipt(uri, rkey, createdAt string) sdk.Receipt {
	n.sessMu.Lock()
	who := n.sess.Handle
	if who == "" || who == "handle.invalid" {
		who = n.sess.DID
	}
	n.sessMu.Unlock()
	at, _ := time.Parse(time.RFC3339Nano, createdAt)
	return sdk.Receipt{RemoteID: uri, URL: "https://bsky.app/profile/" + who + "/post/" + rkey, PublishedAt: at}
}

// resolveHandle finds a mentioned handle's DID; a handle that does not resolve is not an error.
func (n *Network) resolveHandle(ctx context.Context, handle string) (string, bool, error) {
	var out struct {
		DID string `json:"did"`
	}
	err := n.call(ctx, http.MethodGet, "com.atproto.identity.resolveHandle", url.Values{"handle": {handle}}, nil, "", &out)
	var ce *callError
	if errors.As(err, &ce) && ce.err.Kind == sdk.Permanent {
		return "", false, nil // "Unable to resolve handle": no facet, the text stays
	}
	if err != nil {
		return "", false, err
	}
	return out.DID, out.DID != "", nil
}

// Lookup reads the record the idempotency key's record key names.
func (n *Network) Lookup(ctx context.Context, idempotencyKey string) (sdk.Receipt, bool, error) {
	did := n.did()
	if did == "" {
		return sdk.Receipt{}, false, errors.New("bluesky: Lookup called before Configure")
	}
	rkey := RecordKey(idempotencyKey)
	var out struct {
		URI   string `json:"uri"`
		Value struct {
			CreatedAt string `json:"createdAt"`
		} `json:"value"`
	}
	err := n.call(ctx, http.MethodGet, "com.atproto.repo.getRecord",
		url.Values{"repo": {did}, "collection": {postCollection}, "rkey": {rkey}}, nil, "", &out)
	var ce *callError
	if errors.As(err, &ce) && ce.xrpc.Name == "RecordNotFound" {
		return sdk.Receipt{}, false, nil
	}
	if err != nil {
		return sdk.Receipt{}, false, err
	}
	if out.URI == "" {
		out.URI = "at://" + did + "/" + postCollection + "/" + rkey
	}
	return n.receipt(out.URI, rkey, out.Value.CreatedAt), true, nil
}

// Delete removes a post given its at:// URI (or bare record key). A post already gone is
// not an error.
func (n *Network) Delete(ctx context.Context, remoteID string) error {
	did := n.did()
	if did == "" {
		return errors.New("bluesky: Delete called before Configure")
	}
	repo, collection, rkey := did, postCollection, remoteID
	if rest, ok := strings.CutPrefix(remoteID, "at://"); ok {
		parts := strings.Split(rest, "/")
		if len(parts) != 3 || parts[2] == "" {
			return sdk.Errorf(sdk.Permanent, "bluesky: %q is not a post URI (at://DID/app.bsky.feed.post/KEY)", remoteID)
		}
		repo, collection, rkey = parts[0], parts[1], parts[2]
	}
	if repo != did || collection != postCollection {
		return sdk.Errorf(sdk.Permanent, "bluesky: %s is not a post of this account (%s): it cannot be deleted from here", remoteID, did)
	}
	if rkey == "" {
		return sdk.Errorf(sdk.Permanent, "bluesky: Delete called without a post id")
	}
	err := n.postJSON(ctx, "com.atproto.repo.deleteRecord", map[string]string{"repo": repo, "collection": collection, "rkey": rkey}, nil)
	var ce *callError
	if errors.As(err, &ce) && ce.xrpc.Name == "RecordNotFound" {
		return nil
	}
	return err
}

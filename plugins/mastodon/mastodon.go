// Package mastodon publishes to an account on any server that speaks the Mastodon client
// REST API: Mastodon, GoToSocial, Akkoma, Pleroma.
//
// Settings: server (base URL), token (a bearer token with read and write scopes),
// visibility (public, unlisted, private or direct; default public), language (ISO 639,
// used when a post does not say), state_dir (a directory for the crash-recovery journal).
// An account connected from tact (oauth.go) gets access_token, token_expires_at and the
// other credential settings of sdk.CredentialSettings instead of token, with the client_id
// and client_secret of the app registered on its server. Without either token the account
// is configured but not connected: every call to the server answers Auth, so its posts are
// held until a person connects it.
//
// Idempotency. Every status is sent with an Idempotency-Key header, which Mastodon honours
// for an hour; GoToSocial and others ignore it. So the plugin does not rely on it: before a
// status is sent it appends the key, the time and a hash of the text to a journal under
// state_dir (synced to disk), and after the server answers it appends the receipt. Lookup,
// in whatever process the daemon runs it after a crash, then knows:
//   - a key absent from the journal was never sent: found=false;
//   - a key with a receipt was published: that receipt;
//   - a key sent but never answered is searched among the account's own statuses created
//     since (minus five minutes of clock skew), matching the text as the server renders it
//     (see textHash) and the number of attachments, skipping statuses other keys own. A
//     match is the receipt. No status at all in the window means it was never published.
//     Statuses in the window that match nothing (posted by hand, or ours changed by the
//     server beyond what textHash forgives), or more than 200 of them, return an error:
//     the daemon marks the post unknown for a person instead of sending it twice.
//
// Statuses are sent with content_type=text/plain, so servers that would apply Markdown
// (GoToSocial, Akkoma) publish the text as written and it can be recognised.
//
// Without state_dir the journal lives in memory: Lookup answers for keys this process has
// published and returns a "cannot tell" error for any other key.
package mastodon

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
	"time"

	"golang.org/x/text/language"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/internal/journal"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

const (
	defaultMaxLength = 500
	defaultMaxMedia  = 4
	// scanPages bounds the statuses Lookup reads (40 per page) to find an interrupted publish.
	scanPages = 5
	// clockSkew widens Lookup's window for servers whose clock is behind ours.
	clockSkew = 5 * time.Minute
	// Mastodon's own limits, for servers that do not state theirs in /api/v2/instance
	// (configuration.media_attachments.image_size_limit and video_size_limit).
	defaultImageBytes = 16 << 20
	defaultVideoBytes = 99 << 20
)

// defaultMediaTypes is what Mastodon accepts when the server does not list its own.
var defaultMediaTypes = []string{
	"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/heic",
	"video/mp4", "video/quicktime", "video/webm",
	"audio/mpeg", "audio/ogg", "audio/wav", "audio/flac", "audio/mp4",
}

var settingKeys = []string{"server", "token", "visibility", "language", "state_dir",
	sdk.SettingAccessToken, sdk.SettingRefreshToken, sdk.SettingExpiresAt, sdk.SettingRefreshExpiresAt, sdk.SettingSubject,
	settingClientID, settingClientSecret}

// Network is one Mastodon account. Create it with New; the zero value is not usable.
type Network struct {
	client        *http.Client
	now           func() time.Time
	pollInterval  time.Duration
	mediaDeadline time.Duration
	log           *slog.Logger

	// publishMu serialises Publish and Lookup, which read and write the journal around
	// network calls: one key must not be sent twice by two concurrent calls.
	publishMu sync.Mutex

	mu         sync.Mutex // guards the fields below, set by Configure
	configured bool
	server     string
	token      string    // "" when the account is not connected
	expires    time.Time // when token stops working (zero: never)
	stateDir   string
	visibility string
	language   string
	accountID  string
	maxLength  int
	maxMedia   int
	mediaTypes []string
	sizes      sizeLimits
	journal    *journal.Journal[attempt]

	appsMu sync.Mutex              // guards apps; taken after publishMu, before mu
	apps   map[string]registration // app registrations by redirect URI (oauth.go)
}

// Option changes how New builds a Network.
type Option func(*Network)

// WithHTTPClient sends requests through c (default: a client with a 2-minute timeout;
// every call is also bounded by its ctx).
func WithHTTPClient(c *http.Client) Option { return func(n *Network) { n.client = c } }

// WithClock makes the Network read the time from now (tests; default time.Now).
func WithClock(now func() time.Time) Option { return func(n *Network) { n.now = now } }

// WithMediaPolling sets how often a processing upload is polled and how long it may take
// (default every 500ms, up to 2 minutes; the call's ctx deadline also applies).
func WithMediaPolling(interval, deadline time.Duration) Option {
	return func(n *Network) { n.pollInterval, n.mediaDeadline = interval, deadline }
}

// WithLogger logs through l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(n *Network) { n.log = l } }

// New returns an unconfigured Mastodon network.
func New(opts ...Option) *Network {
	n := &Network{
		client:        &http.Client{Timeout: 2 * time.Minute},
		now:           time.Now,
		pollInterval:  500 * time.Millisecond,
		mediaDeadline: 2 * time.Minute,
		log:           slog.Default(),
		maxLength:     defaultMaxLength,
		maxMedia:      defaultMaxMedia,
		mediaTypes:    defaultMediaTypes,
		journal:       journal.Memory[attempt](),
		apps:          map[string]registration{},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

var (
	_ sdk.Network = (*Network)(nil)
	_ sdk.Trender = (*Network)(nil)
)

// Describe reports the server's limits once configured, Mastodon's defaults before.
func (n *Network) Describe(ctx context.Context) (sdk.Description, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return sdk.Description{
		Name:          "mastodon",
		Version:       Version,
		MaxLength:     n.maxLength,
		Counting:      sdk.CountMastodon,
		MaxMedia:      n.maxMedia,
		MediaTypes:    slices.Clone(n.mediaTypes),
		Capabilities:  []string{"delete", "lookup", "media", "trends", "oauth"},
		SettingsKeys:  slices.Clone(settingKeys),
		SecretSetting: []string{"token", sdk.SettingAccessToken, sdk.SettingRefreshToken, settingClientSecret},
	}, nil
}

// Configure checks the settings, verifies the token with the server, and reads the
// server's limits. A rejected token is an Auth error; a bad setting is Permanent. Without
// a token (an account not connected yet, or the process that runs the connect flow) and
// with a token that has expired, nothing is asked of the server: the account is
// configured, and its calls to the server answer Auth. It may be called again on a
// running process (new credentials): a failed Configure leaves the previous
// configuration in place.
func (n *Network) Configure(ctx context.Context, settings map[string]string) error {
	if err := sdk.CheckSettingKeys("mastodon", settings, settingKeys); err != nil {
		return err
	}
	server := strings.TrimRight(strings.TrimSpace(settings["server"]), "/")
	u, err := url.Parse(server)
	if server == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// Not repeated in full: a value read from env: may be a secret (docs/operations.md, "Secrets").
		return sdk.Errorf(sdk.Permanent, "mastodon: setting \"server\" (%s) is not an http:// or https:// URL with a host: set it to the server's base URL, e.g. https://social.example", redact.SecretURL(server))
	}
	creds, err := sdk.CredentialsFrom(settings)
	if err != nil {
		return err
	}
	token := strings.TrimSpace(creds.AccessToken)
	if token == "" {
		token = strings.TrimSpace(settings["token"])
		creds.ExpiresAt = time.Time{}
	}
	visibility := settings["visibility"]
	if visibility == "" {
		visibility = "public"
	}
	if !slices.Contains([]string{"public", "unlisted", "private", "direct"}, visibility) {
		return sdk.Errorf(sdk.Permanent, "mastodon: setting \"visibility\" is %q: use public, unlisted, private or direct", visibility)
	}
	lang := ""
	if settings["language"] != "" {
		if lang, err = isoLanguage(settings["language"]); err != nil {
			return sdk.Errorf(sdk.Permanent, "mastodon: setting \"language\": %v", err)
		}
	}

	// The token is checked against the server with the fields set on a scratch copy, so a
	// failed Configure leaves a previous configuration in place.
	probe := &Network{client: n.client, now: n.now, log: n.log, server: server, token: token, expires: creds.ExpiresAt}
	var account struct {
		ID string `json:"id"`
	}
	maxLength, maxMedia, mediaTypes, sizes := defaultMaxLength, defaultMaxMedia, defaultMediaTypes, sizeLimits{image: defaultImageBytes, video: defaultVideoBytes}
	switch err := probe.usable(); {
	case err != nil:
		n.log.Warn("mastodon: configured without a usable token: its posts are held until it is connected", "reason", err)
	default:
		if _, err := probe.call(ctx, http.MethodGet, "/api/v1/accounts/verify_credentials", nil, "", nil, &account); err != nil {
			return err
		}
		if account.ID == "" {
			return sdk.Errorf(sdk.Retryable, "mastodon: %s/api/v1/accounts/verify_credentials answered without an account id: is this a Mastodon-compatible server?", redact.URL(server))
		}
		maxLength, maxMedia, mediaTypes, sizes = probe.instanceLimits(ctx)
		if !creds.ExpiresAt.IsZero() && creds.ExpiresAt.Sub(n.now()) < 7*24*time.Hour {
			n.log.Warn("mastodon: the access token expires within 7 days", "expires_at", creds.ExpiresAt.Format(time.RFC3339))
		}
	}

	j := journal.Memory[attempt]()
	if dir := settings["state_dir"]; dir != "" && account.ID != "" {
		name := fmt.Sprintf("mastodon-%s-%s.jsonl", safeName(u.Host), safeName(account.ID))
		if j, err = journal.Open[attempt](filepath.Join(dir, name), n.now(), journalOptions); err != nil {
			return sdk.Errorf(sdk.Permanent, "%v", err)
		}
	}

	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	n.appsMu.Lock()
	defer n.appsMu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.configured = true
	if n.server != server {
		clear(n.apps) // registered on another server
	}
	n.server, n.token, n.expires, n.visibility, n.language = server, token, creds.ExpiresAt, visibility, lang
	n.stateDir = settings["state_dir"]
	n.accountID = account.ID
	n.maxLength, n.maxMedia, n.mediaTypes, n.sizes = maxLength, maxMedia, mediaTypes, sizes
	n.journal = j
	return nil
}

// sizeLimits are the largest attachments a server takes, in bytes.
type sizeLimits struct{ image, video int64 }

// of is the limit for an attachment of type t (audio counts as video, as in Mastodon).
func (l sizeLimits) of(t string) int64 {
	if strings.HasPrefix(t, "image/") {
		return l.image
	}
	return l.video
}

// instanceLimits reads the status length, attachment count, media types and sizes the
// server accepts from /api/v2/instance, then /api/v1/instance (older servers, Pleroma's
// max_toot_chars); what neither says keeps Mastodon's defaults.
func (n *Network) instanceLimits(ctx context.Context) (maxLength, maxMedia int, types []string, sizes sizeLimits) {
	maxLength, maxMedia, types = defaultMaxLength, defaultMaxMedia, defaultMediaTypes
	sizes = sizeLimits{image: defaultImageBytes, video: defaultVideoBytes}
	var inst struct {
		MaxTootChars  int `json:"max_toot_chars"`
		Configuration struct {
			Statuses struct {
				MaxCharacters       int `json:"max_characters"`
				MaxMediaAttachments int `json:"max_media_attachments"`
			} `json:"statuses"`
			MediaAttachments struct {
				SupportedMimeTypes []string `json:"supported_mime_types"`
				ImageSizeLimit     int64    `json:"image_size_limit"`
				VideoSizeLimit     int64    `json:"video_size_limit"`
			} `json:"media_attachments"`
		} `json:"configuration"`
	}
	for _, path := range []string{"/api/v2/instance", "/api/v1/instance"} {
		if _, err := n.call(ctx, http.MethodGet, path, nil, "", nil, &inst); err != nil {
			n.log.Debug("mastodon: reading instance limits", "path", path, "err", err)
			continue
		}
		c := inst.Configuration
		switch {
		case c.Statuses.MaxCharacters > 0:
			maxLength = c.Statuses.MaxCharacters
		case inst.MaxTootChars > 0:
			maxLength = inst.MaxTootChars
		default:
			continue
		}
		if c.Statuses.MaxMediaAttachments > 0 {
			maxMedia = c.Statuses.MaxMediaAttachments
		}
		if len(c.MediaAttachments.SupportedMimeTypes) > 0 {
			types = c.MediaAttachments.SupportedMimeTypes
		}
		if c.MediaAttachments.ImageSizeLimit > 0 {
			sizes.image = c.MediaAttachments.ImageSizeLimit
		}
		if c.MediaAttachments.VideoSizeLimit > 0 {
			sizes.video = c.MediaAttachments.VideoSizeLimit
		}
		break
	}
	return maxLength, maxMedia, types, sizes
}

// Validate lists what the server would refuse: length by Mastodon's counting (the link
// included, appended when the text lacks it), attachment count and types.
func (n *Network) Validate(ctx context.Context, p sdk.Post) ([]sdk.Problem, error) {
	n.mu.Lock()
	maxLength, maxMedia, types, sizes := n.maxLength, n.maxMedia, n.mediaTypes, n.sizes
	n.mu.Unlock()

	var problems []sdk.Problem
	text := sdk.TextWithLink(p)
	if strings.TrimSpace(text) == "" && len(p.Media) == 0 {
		problems = append(problems, sdk.Problem{Field: "text", Message: "the post is empty: write a text or attach media"})
	}
	if l := Length(text); l > maxLength {
		problems = append(problems, sdk.Problem{Field: "text", Message: fmt.Sprintf(
			"is %d characters by Mastodon's counting (each link counts 23, @user@domain counts as @user); this server allows %d: shorten it by %d",
			l, maxLength, l-maxLength)})
	}
	if p.Link != "" {
		if u, err := url.Parse(p.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, sdk.Problem{Field: "link", Message: fmt.Sprintf("%q is not an http(s) URL", p.Link)})
		}
	}
	if len(p.Media) > maxMedia {
		problems = append(problems, sdk.Problem{Field: "media", Message: fmt.Sprintf("%d attachments; this server allows %d per post: remove %d", len(p.Media), maxMedia, len(p.Media)-maxMedia)})
	}
	for i, m := range p.Media {
		problems = append(problems, mediaProblems(i, m, types, sizes)...)
	}
	return problems, nil
}

func mediaProblems(i int, m sdk.Media, types []string, sizes sizeLimits) []sdk.Problem {
	field := fmt.Sprintf("media[%d]", i)
	var problems []sdk.Problem
	t := sdk.MediaType(m)
	if !slices.Contains(types, t) {
		problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("type %s is not accepted by this server (it accepts %s)", t, strings.Join(types, ", "))})
	}
	if p := sdk.MediaSizeProblem(i, m, sizes.of(t), "this server"); p != nil {
		problems = append(problems, *p)
	}
	return problems
}

// status is the part of Mastodon's Status entity the plugin reads.
type status struct {
	ID               string    `json:"id"`
	URL              string    `json:"url"`
	URI              string    `json:"uri"`
	CreatedAt        time.Time `json:"created_at"`
	Content          string    `json:"content"`
	Text             string    `json:"text"`
	Reblog           *struct{} `json:"reblog"`
	MediaAttachments []struct {
		ID string `json:"id"`
	} `json:"media_attachments"`
	Pleroma struct {
		Content map[string]string `json:"content"`
	} `json:"pleroma"`
}

func (st *status) receipt() sdk.Receipt {
	u := st.URL
	if u == "" {
		u = st.URI
	}
	return sdk.Receipt{RemoteID: st.ID, URL: u, PublishedAt: st.CreatedAt}
}

// Publish uploads p's media and posts the status, at most once per idempotency key (see the
// package comment).
func (n *Network) Publish(ctx context.Context, p sdk.Post, idempotencyKey string) (sdk.Receipt, error) {
	if idempotencyKey == "" {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "mastodon: Publish called without an idempotency key")
	}
	if !n.isConfigured() {
		return sdk.Receipt{}, errors.New("mastodon: Publish called before Configure")
	}
	problems, err := n.Validate(ctx, p)
	if err != nil {
		return sdk.Receipt{}, err
	}
	if len(problems) > 0 {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "mastodon: the server would refuse this post: %s", sdk.JoinProblems(problems))
	}

	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	text := sdk.TextWithLink(p)
	if prev := n.journal.Get(idempotencyKey); prev != nil {
		if prev.Receipt != nil {
			return *prev.Receipt, nil
		}
		// An earlier attempt with this key was sent but never answered: the status may
		// exist. The daemon normally calls Lookup first; this covers a direct retry.
		r, found, err := n.scan(ctx, prev)
		if err != nil {
			return sdk.Receipt{}, err
		}
		if found {
			return r, nil
		}
	}

	ids := make([]string, 0, len(p.Media))
	for i, m := range p.Media {
		id, err := n.upload(ctx, m)
		if err != nil {
			return sdk.Receipt{}, fmt.Errorf("media[%d]: %w", i, err)
		}
		ids = append(ids, id)
	}

	sending := attempt{Attempt: journal.Attempt{Key: idempotencyKey, Sending: n.now().UTC()}, Hash: textHash(text), Media: len(ids)}
	if err := n.journal.Append(sending); err != nil {
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "%v: nothing was sent", err)
	}
	form := url.Values{}
	form.Set("status", text)
	form.Set("content_type", "text/plain") // GoToSocial, Pleroma, Akkoma; Mastodon ignores it
	for _, id := range ids {
		form.Add("media_ids[]", id)
	}
	n.mu.Lock()
	form.Set("visibility", n.visibility)
	lang := n.language
	n.mu.Unlock()
	if p.Language != "" {
		if l, err := isoLanguage(p.Language); err == nil {
			lang = l
		}
	}
	if lang != "" {
		form.Set("language", lang)
	}
	var st status
	_, err = n.call(ctx, http.MethodPost, "/api/v1/statuses", strings.NewReader(form.Encode()),
		"application/x-www-form-urlencoded", http.Header{"Idempotency-Key": {idempotencyKey}}, &st)
	if err != nil {
		return sdk.Receipt{}, err
	}
	if st.ID == "" {
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "mastodon: POST /api/v1/statuses answered without a status id")
	}
	r := st.receipt()
	n.remember(idempotencyKey, r)
	return r, nil
}

// remember records the receipt of key. It is kept in memory even if the journal file
// cannot be written, and the failure is logged: the status is already published.
func (n *Network) remember(key string, r sdk.Receipt) {
	a := *n.journal.Get(key)
	a.Receipt = &r
	if err := n.journal.Append(a); err != nil {
		n.log.Error("mastodon: status published but its receipt could not be journaled", "key", key, "id", r.RemoteID, "err", err)
		n.journal.Keep(a)
	}
}

// Lookup finds the status published with idempotencyKey (see the package comment).
func (n *Network) Lookup(ctx context.Context, idempotencyKey string) (sdk.Receipt, bool, error) {
	if !n.isConfigured() {
		return sdk.Receipt{}, false, errors.New("mastodon: Lookup called before Configure")
	}
	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	a := n.journal.Get(idempotencyKey)
	switch {
	case a == nil && n.journal.InMemory():
		return sdk.Receipt{}, false, sdk.Errorf(sdk.Retryable,
			"mastodon: cannot tell whether key %q was published: this process did not send it and the account has no state_dir to remember earlier processes' publishes", idempotencyKey)
	case a == nil:
		return sdk.Receipt{}, false, nil // every send is journaled first
	case a.Receipt != nil:
		return *a.Receipt, true, nil
	}
	return n.scan(ctx, a)
}

// scan searches the account's recent statuses for the one a sent but never saw answered.
// It says "not published" only when nothing the account posted since could be it: a
// status in the window that matches no journaled key might be ours rendered in a way
// textHash does not foresee, so then it cannot tell.
func (n *Network) scan(ctx context.Context, a *attempt) (sdk.Receipt, bool, error) {
	since := a.Sending.Add(-clockSkew)
	n.mu.Lock()
	account := n.accountID
	n.mu.Unlock()
	maxID, strangers, done := "", 0, false
	cannotTell := func(why string) error {
		return sdk.Errorf(sdk.Retryable, "mastodon: cannot tell whether key %q was published: %s; look at the account's statuses since %s and decide",
			a.Key, why, a.Sending.Format(time.RFC3339))
	}
	for page := 0; page < scanPages; page++ {
		q := url.Values{"limit": {"40"}, "exclude_reblogs": {"true"}}
		if maxID != "" {
			q.Set("max_id", maxID)
		}
		var statuses []status
		if _, err := n.call(ctx, http.MethodGet, "/api/v1/accounts/"+url.PathEscape(account)+"/statuses?"+q.Encode(), nil, "", nil, &statuses); err != nil {
			return sdk.Receipt{}, false, fmt.Errorf("mastodon: cannot tell whether key %q was published: %w", a.Key, err)
		}
		for i := range statuses {
			st := &statuses[i]
			if !st.CreatedAt.IsZero() && st.CreatedAt.Before(since) {
				done = true // newest first: everything newer has been read
				break
			}
			if st.Reblog != nil || n.journal.Owner(st.ID) != "" {
				continue
			}
			if st.matches(a.Hash, a.Media) {
				r := st.receipt()
				n.remember(a.Key, r)
				return r, true, nil
			}
			strangers++
		}
		if done || len(statuses) == 0 {
			if strangers > 0 {
				return sdk.Receipt{}, false, cannotTell(fmt.Sprintf("%d status(es) posted since then match no text tact sent", strangers))
			}
			return sdk.Receipt{}, false, nil
		}
		maxID = statuses[len(statuses)-1].ID
	}
	return sdk.Receipt{}, false, cannotTell(fmt.Sprintf("the account posted more than %d statuses since then and none matched", scanPages*40))
}

// Trends offers the server's trending news links (GET /api/v1/trends/links) as context,
// so that what the fediverse is sharing can open incidents too. Servers without trends
// (GoToSocial, older Mastodon) answer 404: that is a Permanent error, which the daemon
// reads as "this account has no trends", not as a failure.
func (n *Network) Trends(ctx context.Context) ([]sdk.Trend, error) {
	if !n.isConfigured() {
		return nil, errors.New("mastodon: Trends called before Configure")
	}
	var cards []struct {
		URL         string `json:"url"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Language    string `json:"language"`
	}
	code, err := n.call(ctx, http.MethodGet, "/api/v1/trends/links?limit=20", nil, "", nil, &cards)
	if code == http.StatusNotFound {
		return nil, sdk.Errorf(sdk.Permanent, "mastodon: this server offers no trending links")
	}
	if err != nil {
		return nil, err
	}
	trends := make([]sdk.Trend, 0, len(cards))
	for _, c := range cards {
		if strings.TrimSpace(c.Title) == "" {
			continue
		}
		trends = append(trends, sdk.Trend{Title: c.Title, URL: c.URL, Summary: c.Description, Language: c.Language})
	}
	return trends, nil
}

// Delete removes the status; one already gone is not an error.
func (n *Network) Delete(ctx context.Context, remoteID string) error {
	if !n.isConfigured() {
		return errors.New("mastodon: Delete called before Configure")
	}
	if remoteID == "" {
		return sdk.Errorf(sdk.Permanent, "mastodon: Delete called without a status id")
	}
	code, err := n.call(ctx, http.MethodDelete, "/api/v1/statuses/"+url.PathEscape(remoteID), nil, "", nil, nil)
	if code == http.StatusNotFound {
		return nil
	}
	return err
}

func (n *Network) isConfigured() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.configured
}

// isoLanguage turns a BCP 47 tag into the ISO 639 code Mastodon expects ("en-GB" -> "en").
func isoLanguage(tag string) (string, error) {
	t, err := language.Parse(tag)
	if err != nil {
		return "", fmt.Errorf("%q is not a language tag: use an ISO 639 code such as en or fr", tag)
	}
	base, _ := t.Base()
	return base.String(), nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

func safeName(s string) string { return unsafeName.ReplaceAllString(s, "_") }

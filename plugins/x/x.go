// Package x publishes to an account on X (formerly Twitter) through X's API v2: posts with
// POST /2/tweets, images, GIFs and video through the chunked media upload, DELETE
// /2/tweets/:id, and the account's timeline for Lookup. The account connects through
// OAuth 2.0 with PKCE (sdk.Authorizer); docs/plugins.md, "X", is the user's guide.
//
// Settings: client_id and client_secret (the app's OAuth 2.0 credentials; a public client
// has no secret), the credentials the daemon keeps for a connected account
// (access_token, refresh_token, token_expires_at, subject), state_dir (a directory for
// the send journal), and api_url and authorize_url (X's, unless a test points them at a
// fake).
//
// Idempotency. X takes no idempotency key, so the plugin keeps a journal under state_dir:
// before a post is sent it appends the key, the time, the text and the number of
// attachments (synced to disk), and after X answers it appends the receipt, or that X
// refused the post. Lookup, in whatever process the daemon runs it after a crash, then
// knows:
//   - a key absent from the journal, or refused, was never published: found=false;
//   - a key with a receipt was published: that receipt;
//   - a key sent but never answered is looked for in the account's timeline (GET
//     /2/users/:id/tweets, replies and reposts excluded) since the first send (less five
//     minutes of clock skew), matching the text as X shows it (links in t.co, see
//     matches) and the attachments, skipping posts other keys own. A match is the receipt;
//     an empty window means it was never published. Posts in the window that match
//     nothing (posted by hand), more than 500 of them, or a timeline X will not show
//     (rate limit, an access level without reads) give an error: the daemon marks the
//     post unknown for a person rather than post twice.
//
// X's refusal of a duplicate text (403 "You are not allowed to create a Tweet with
// duplicate content.") is the second guard: when it answers a resend of a key whose first
// send got no answer, the post is most likely ours, not yet in the timeline, and the
// publish is retried (Retryable) instead of failed.
//
// Tokens. X's access tokens last two hours and each refresh token works once: Refresh
// returns the new pair, which the daemon keeps and hands to Configure. The plugin never
// refreshes on its own, since the daemon would then hold a spent refresh token. An
// expired access token makes Publish, Lookup and Delete answer Auth, so the daemon holds
// the account's posts.
//
// Without state_dir the journal lives in memory: Lookup answers for keys this process has
// published and returns a "cannot tell" error for any other key.
package x

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/internal/journal"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Version is the plugin's version, reported by Describe.
const Version = "1.0.0"

// MaxLength is X's limit, in X's weighted characters (sdk.CountX), for accounts without a
// subscription to longer posts.
const MaxLength = 280

// X's addresses, the defaults of api_url and authorize_url.
const (
	DefaultAPIURL       = "https://api.x.com"
	DefaultAuthorizeURL = "https://x.com/i/oauth2/authorize"
)

const (
	// scanPages bounds the timeline Lookup reads (100 posts a page).
	scanPages = 5
	// clockSkew widens Lookup's window for an X clock behind ours.
	clockSkew = 5 * time.Minute
	// expiryWarning: a token that cannot be refreshed and expires sooner is logged.
	expiryWarning = 7 * 24 * time.Hour
)

var settingKeys = []string{"client_id", "client_secret", "api_url", "authorize_url", "state_dir",
	sdk.SettingAccessToken, sdk.SettingRefreshToken, sdk.SettingExpiresAt, sdk.SettingRefreshExpiresAt, sdk.SettingSubject}

// Network is one X account. Create it with New; the zero value is not usable.
type Network struct {
	client        *http.Client
	now           func() time.Time
	pollMax       time.Duration
	mediaDeadline time.Duration
	log           *slog.Logger

	// publishMu serialises Publish and Lookup, which read and write the journal around
	// calls to X: one key must not be sent twice by two concurrent calls.
	publishMu sync.Mutex

	mu           sync.Mutex // guards the fields below, set by Configure
	configured   bool
	apiBase      string
	authURL      string
	clientID     string
	clientSecret string
	creds        sdk.Credentials
	userID       string
	username     string
	stateDir     string
	journal      *journal.Journal[attempt] // opened on first use (guarded by publishMu)
}

// Option changes how New builds a Network.
type Option func(*Network)

// WithHTTPClient sends requests through c (default: a client with a 2-minute timeout;
// every call is also bounded by its ctx).
func WithHTTPClient(c *http.Client) Option { return func(n *Network) { n.client = c } }

// WithClock makes the Network read the time from now (tests; default time.Now).
func WithClock(now func() time.Time) Option { return func(n *Network) { n.now = now } }

// WithMediaPolling bounds the wait between two polls of a video X is processing (X says
// how long, in check_after_secs; default at most 5 seconds) and the whole wait (default 5
// minutes; the call's ctx deadline also applies).
func WithMediaPolling(pollMax, deadline time.Duration) Option {
	return func(n *Network) { n.pollMax, n.mediaDeadline = pollMax, deadline }
}

// WithLogger logs through l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(n *Network) { n.log = l } }

// New returns an unconfigured X network.
func New(opts ...Option) *Network {
	n := &Network{
		client:        &http.Client{Timeout: 2 * time.Minute},
		now:           time.Now,
		pollMax:       5 * time.Second,
		mediaDeadline: 5 * time.Minute,
		log:           slog.Default(),
		apiBase:       DefaultAPIURL,
		authURL:       DefaultAuthorizeURL,
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

var _ sdk.Network = (*Network)(nil)

// Describe reports X's limits.
func (n *Network) Describe(ctx context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name:          "x",
		Version:       Version,
		MaxLength:     MaxLength,
		Counting:      sdk.CountX,
		MaxMedia:      maxImages,
		MediaTypes:    slices.Clone(mediaTypes),
		Capabilities:  []string{"delete", "lookup", "media", "oauth"},
		SettingsKeys:  slices.Clone(settingKeys),
		SecretSetting: []string{"client_secret", sdk.SettingAccessToken, sdk.SettingRefreshToken},
	}, nil
}

// userMe is the answer of GET /2/users/me.
type userMe struct {
	Data struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"data"`
}

// Configure checks the settings and, when the account is connected, that X accepts its
// access token (GET /2/users/me). It succeeds without credentials (the daemon configures
// the process that runs the connect flow with the app settings alone) and with an expired
// access token (the daemon may still refresh it); Publish then answers Auth. A bad setting
// is Permanent, a token X refuses is Auth. It may be called again to take new credentials.
func (n *Network) Configure(ctx context.Context, settings map[string]string) error {
	if err := sdk.CheckSettingKeys("x", settings, settingKeys); err != nil {
		return err
	}
	apiBase, err := urlSetting(settings, "api_url", DefaultAPIURL)
	if err != nil {
		return err
	}
	authURL, err := urlSetting(settings, "authorize_url", DefaultAuthorizeURL)
	if err != nil {
		return err
	}
	clientID, secret := strings.TrimSpace(settings["client_id"]), strings.TrimSpace(settings["client_secret"])
	creds, err := sdk.CredentialsFrom(settings)
	if err != nil {
		return fmt.Errorf("x: %w", err)
	}
	creds.AccessToken = strings.TrimSpace(creds.AccessToken)
	if creds.AccessToken == "" && clientID == "" {
		return sdk.Errorf(sdk.Permanent, "x: setting \"client_id\" is empty: set it to the OAuth 2.0 Client ID of your X app (developer console, Keys and tokens), then connect the account (tactctl account connect)")
	}
	dir := settings["state_dir"]
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return sdk.Errorf(sdk.Permanent, "x: setting \"state_dir\": %v: set it to a directory the daemon can write", err)
		}
	}

	var me userMe
	now := n.now()
	switch {
	case creds.AccessToken == "":
		// Not connected yet: the connect flow needs only the app settings.
	case !creds.ExpiresAt.IsZero() && !now.Before(creds.ExpiresAt):
		n.log.Warn("x: the access token has expired; posts are held until the daemon refreshes it or the account is connected again",
			"expired", creds.ExpiresAt.Format(time.RFC3339))
	default:
		probe := api{client: n.client, base: apiBase, token: creds.AccessToken, now: n.now}
		if _, err := probe.getJSON(ctx, "/2/users/me", &me); err != nil {
			return err
		}
		if me.Data.ID == "" {
			return sdk.Errorf(sdk.Retryable, "x: %s/2/users/me answered without a user id: is api_url X's API?", redact.URL(apiBase))
		}
		if !creds.ExpiresAt.IsZero() && creds.RefreshToken == "" && creds.ExpiresAt.Sub(now) < expiryWarning {
			n.log.Warn("x: the access token expires soon and cannot be refreshed (no refresh token: the app did not get offline.access): connect the account again before then",
				"expires", creds.ExpiresAt.Format(time.RFC3339))
		}
	}

	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stateDir != dir || n.userID != me.Data.ID {
		n.journal = nil // reopened on first use
	}
	n.configured = true
	n.apiBase, n.authURL, n.clientID, n.clientSecret = apiBase, authURL, clientID, secret
	n.creds, n.userID, n.username, n.stateDir = creds, me.Data.ID, me.Data.Username, dir
	return nil
}

func urlSetting(settings map[string]string, key, def string) (string, error) {
	v := strings.TrimRight(strings.TrimSpace(settings[key]), "/")
	if v == "" {
		return def, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// Not repeated in full: a value read from env: may be a secret (docs/operations.md, "Secrets").
		return "", sdk.Errorf(sdk.Permanent, "x: setting %q (%s) is not an http:// or https:// URL with a host: leave it out to use X's (%s)", key, redact.SecretURL(v), def)
	}
	return v, nil
}

func (n *Network) isConfigured() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.configured
}

// apiWith is X's API called with token.
func (n *Network) apiWith(token string) api {
	n.mu.Lock()
	defer n.mu.Unlock()
	return api{client: n.client, base: n.apiBase, token: token, now: n.now}
}

// account is the connected account's API and user, or the Auth error that says why the
// account cannot post now.
func (n *Network) account() (a api, userID, username string, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case !n.configured:
		return api{}, "", "", errors.New("x: called before Configure")
	case n.creds.AccessToken == "":
		return api{}, "", "", sdk.Errorf(sdk.Auth, "x: the account is not connected to X: connect it (tactctl account connect, or Connect on the web UI's accounts page)")
	case !n.creds.ExpiresAt.IsZero() && !n.now().Before(n.creds.ExpiresAt):
		return api{}, "", "", sdk.Errorf(sdk.Auth, "x: the access token expired at %s and was not refreshed: connect the account again (tactctl account connect)", n.creds.ExpiresAt.Format(time.RFC3339))
	case n.userID == "":
		return api{}, "", "", sdk.Errorf(sdk.Auth, "x: the account's user is not known: configure it again with a valid access token")
	}
	return api{client: n.client, base: n.apiBase, token: n.creds.AccessToken, now: n.now}, n.userID, n.username, nil
}

// openJournal returns the journal, reading it from state_dir on first use. Callers hold
// publishMu. It is not read in Configure: the daemon also configures short-lived
// processes (the connect flow, a check of new credentials) that must not compact the file
// under the account's own process.
func (n *Network) openJournal() (*journal.Journal[attempt], error) {
	if n.journal != nil {
		return n.journal, nil
	}
	n.mu.Lock()
	dir := n.stateDir
	n.mu.Unlock()
	if dir == "" {
		n.journal = journal.Memory[attempt]()
		return n.journal, nil
	}
	j, err := journal.Open[attempt](filepath.Join(dir, journalName), n.now(), journalOptions)
	if err != nil {
		return nil, sdk.Errorf(sdk.Retryable, "%v", err)
	}
	n.journal = j
	return j, nil
}

// Validate lists what X would refuse: the length as X counts it (the link included,
// appended when the text lacks it), characters X refuses, and the attachments X takes.
func (n *Network) Validate(ctx context.Context, p sdk.Post) ([]sdk.Problem, error) {
	var problems []sdk.Problem
	text := sdk.TextWithLink(p)
	if strings.TrimSpace(text) == "" && len(p.Media) == 0 {
		problems = append(problems, sdk.Problem{Field: "text", Message: "the post is empty: write a text or attach media"})
	}
	if l := sdk.Count(sdk.CountX, text); l > MaxLength {
		problems = append(problems, sdk.Problem{Field: "text", Message: fmt.Sprintf(
			"is %d characters as X counts them (each link counts 23, each emoji and each Chinese, Japanese or Korean character 2); X allows %d: shorten it by %d",
			l, MaxLength, l-MaxLength)})
	}
	if i := strings.IndexFunc(text, func(r rune) bool { return r == 0xFFFE || r == 0xFEFF || r == 0xFFFF }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(text[i:])
		problems = append(problems, sdk.Problem{Field: "text", Message: fmt.Sprintf(
			"holds the invisible character U+%04X at character %d, which X refuses: delete it (it often comes with text pasted from another program)", r, utf8.RuneCountInString(text[:i])+1)})
	}
	if p.Link != "" {
		if u, err := url.Parse(p.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, sdk.Problem{Field: "link", Message: fmt.Sprintf("%q is not an http(s) URL", p.Link)})
		}
	}
	return append(problems, mediaProblems(p.Media)...), nil
}

// mediaProblems checks attachments against X's rules: up to 4 images, or a single GIF or
// video; JPEG, PNG, GIF, WebP or MP4; images up to 5 MB, GIFs 15 MB, video 512 MB; alt
// text up to 1000 characters.
func mediaProblems(media []sdk.Media) []sdk.Problem {
	var problems []sdk.Problem
	moving := 0
	for _, m := range media {
		if c := category(sdk.MediaType(m)); c != "tweet_image" {
			moving++
		}
	}
	switch {
	case moving > 0 && len(media) > 1:
		problems = append(problems, sdk.Problem{Field: "media", Message: fmt.Sprintf(
			"%d attachments with a GIF or a video; X takes up to 4 images, or one GIF, or one video: keep the GIF or video alone", len(media))})
	case len(media) > maxImages:
		problems = append(problems, sdk.Problem{Field: "media", Message: fmt.Sprintf(
			"%d images; X takes up to %d per post: remove %d", len(media), maxImages, len(media)-maxImages)})
	}
	for i, m := range media {
		field := fmt.Sprintf("media[%d]", i)
		t := sdk.MediaType(m)
		if !slices.Contains(mediaTypes, t) {
			problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("type %s is not one X takes (JPEG, PNG, GIF, WebP images and MP4 video)", t)})
			continue
		}
		what := map[string]string{"tweet_image": "X (images)", "tweet_gif": "X (GIFs)", "tweet_video": "X (video)"}[category(t)]
		if p := sdk.MediaSizeProblem(i, m, sizeLimit(t), what); p != nil {
			problems = append(problems, *p)
		}
		if l := utf8.RuneCountInString(m.Alt); l > maxAltLength {
			problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("its description (alt text) is %d characters; X allows %d: shorten it by %d", l, maxAltLength, l-maxAltLength)})
		}
	}
	return problems
}

// Publish uploads p's media and posts it, at most once per idempotency key (see the
// package comment).
func (n *Network) Publish(ctx context.Context, p sdk.Post, idempotencyKey string) (sdk.Receipt, error) {
	if idempotencyKey == "" {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "x: Publish called without an idempotency key")
	}
	a, user, username, err := n.account()
	if err != nil {
		return sdk.Receipt{}, err
	}
	problems, err := n.Validate(ctx, p)
	if err != nil {
		return sdk.Receipt{}, err
	}
	if len(problems) > 0 {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "x: X would refuse this post: %s", sdk.JoinProblems(problems))
	}

	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	j, err := n.openJournal()
	if err != nil {
		return sdk.Receipt{}, err
	}
	text := sdk.TextWithLink(p)
	sending := n.now().UTC()
	prev := j.Get(idempotencyKey)
	inFlight := prev != nil && prev.InFlight()
	switch {
	case prev != nil && prev.Receipt != nil:
		return *prev.Receipt, nil
	case inFlight && prev.User != "" && prev.User != user:
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable,
			"x: cannot tell whether key %q was published: it was sent as X user %s and the account is now connected as another: look at that account's posts since %s and decide",
			idempotencyKey, prev.User, prev.Sending.Format(time.RFC3339))
	case inFlight:
		// An earlier send with this key got no answer: the post may exist. The daemon
		// normally calls Lookup first; this covers a direct retry.
		r, found, err := n.scan(ctx, a, user, username, j, prev)
		if err != nil || found {
			return r, err
		}
		sending = prev.Sending // the window must still start at the first send
	}

	ids := make([]string, 0, len(p.Media))
	for i, m := range p.Media {
		id, err := n.upload(ctx, a, m)
		if err != nil {
			return sdk.Receipt{}, fmt.Errorf("media[%d]: %w", i, err)
		}
		ids = append(ids, id)
	}

	at := attempt{Attempt: journal.Attempt{Key: idempotencyKey, Sending: sending}, User: user, Text: text, Media: len(ids)}
	if err := j.Append(at); err != nil {
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "%v: nothing was sent", err)
	}
	body := map[string]any{"text": text}
	if len(ids) > 0 {
		body["media"] = map[string]any{"media_ids": ids}
	}
	var out struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	status, err := a.postJSON(ctx, "/2/tweets", body, &out)
	switch {
	case err == nil && out.Data.ID == "":
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "x: POST /2/tweets answered %d without a post id: the post may exist; Lookup will look for it", status)
	case err == nil:
		r := receipt(out.Data.ID, username, n.now())
		n.remember(j, at, r)
		return r, nil
	case status == 0 || status == http.StatusRequestTimeout || status >= 500:
		// No answer, or X failed after reading the post: it may have been created. The
		// attempt stays in flight for Lookup.
		return sdk.Receipt{}, err
	case status == http.StatusForbidden && isDuplicate(err):
		if inFlight {
			if r, found, serr := n.scan(ctx, a, user, username, j, &at); serr == nil && found {
				return r, nil
			}
			return sdk.Receipt{}, sdk.Errorf(sdk.Retryable,
				"x: X refuses the text as a duplicate of a recent post, and an earlier send with this key got no answer: that post is probably this one, not yet in the account's timeline; the publish will be retried (%v)", err)
		}
		n.refused(j, at)
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "%v: X refuses a text the account posted recently: change the text (even slightly) and approve it again", err)
	default:
		// X answered with a refusal: nothing was created.
		n.refused(j, at)
		return sdk.Receipt{}, err
	}
}

// isDuplicate reports X's refusal of a text the account posted recently (a 403 whose
// message statusError kept).
func isDuplicate(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "duplicate content")
}

func receipt(id, username string, now time.Time) sdk.Receipt {
	u := "https://x.com/i/web/status/" + id
	if username != "" {
		u = "https://x.com/" + username + "/status/" + id
	}
	at, ok := snowflakeTime(id)
	if !ok {
		at = now.UTC()
	}
	return sdk.Receipt{RemoteID: id, URL: u, PublishedAt: at}
}

// remember records the receipt of at. It is kept in memory even if the journal file
// cannot be written, and the failure is logged: the post is already published.
func (n *Network) remember(j *journal.Journal[attempt], at attempt, r sdk.Receipt) {
	at.Receipt = &r
	if err := j.Append(at); err != nil {
		n.log.Error("x: post published but its receipt could not be journaled", "key", at.Key, "id", r.RemoteID, "err", err)
		j.Keep(at)
	}
}

// refused records that X refused at, so that Lookup says "never published". A failure to
// write it is logged: Lookup then looks in the timeline, which is safe too.
func (n *Network) refused(j *journal.Journal[attempt], at attempt) {
	at.Refused = true
	if err := j.Append(at); err != nil {
		n.log.Warn("x: X refused the post but the refusal could not be journaled", "key", at.Key, "err", err)
	}
}

// Lookup finds the post published with idempotencyKey (see the package comment).
func (n *Network) Lookup(ctx context.Context, idempotencyKey string) (sdk.Receipt, bool, error) {
	if !n.isConfigured() {
		return sdk.Receipt{}, false, errors.New("x: Lookup called before Configure")
	}
	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	j, err := n.openJournal()
	if err != nil {
		return sdk.Receipt{}, false, err
	}
	at := j.Get(idempotencyKey)
	switch {
	case at == nil && j.InMemory():
		return sdk.Receipt{}, false, sdk.Errorf(sdk.Retryable,
			"x: cannot tell whether key %q was published: this process did not send it and the account has no state_dir to remember earlier processes' publishes", idempotencyKey)
	case at == nil || at.Refused:
		return sdk.Receipt{}, false, nil // every send is journaled first
	case at.Receipt != nil:
		return *at.Receipt, true, nil
	}
	a, user, username, err := n.account()
	if err != nil {
		return sdk.Receipt{}, false, fmt.Errorf("x: cannot tell whether key %q was published: %w", idempotencyKey, err)
	}
	if at.User != "" && at.User != user {
		return sdk.Receipt{}, false, sdk.Errorf(sdk.Retryable,
			"x: cannot tell whether key %q was published: it was sent as X user %s and the account is now connected as another: look at that account's posts since %s and decide",
			idempotencyKey, at.User, at.Sending.Format(time.RFC3339))
	}
	return n.scan(ctx, a, user, username, j, at)
}

// timelinePage is the answer of GET /2/users/:id/tweets.
type timelinePage struct {
	Data []struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	} `json:"data"`
	Meta struct {
		NextToken string `json:"next_token"`
	} `json:"meta"`
}

// scan looks for the post at sent but never saw answered, in the account's posts since.
// It says "not published" only when nothing the account posted since could be it.
func (n *Network) scan(ctx context.Context, a api, user, username string, j *journal.Journal[attempt], at *attempt) (sdk.Receipt, bool, error) {
	since := at.Sending.Add(-clockSkew).UTC()
	cannotTell := func(why string) error {
		return sdk.Errorf(sdk.Retryable, "x: cannot tell whether key %q was published: %s; look at the account's posts since %s and decide",
			at.Key, why, at.Sending.Format(time.RFC3339))
	}
	strangers, token := 0, ""
	for page := 0; page < scanPages; page++ {
		q := url.Values{"max_results": {"100"}, "start_time": {since.Format("2006-01-02T15:04:05Z")}, "exclude": {"replies,retweets"}}
		if token != "" {
			q.Set("pagination_token", token)
		}
		var tl timelinePage
		if _, err := a.getJSON(ctx, "/2/users/"+url.PathEscape(user)+"/tweets?"+q.Encode(), &tl); err != nil {
			return sdk.Receipt{}, false, fmt.Errorf("x: cannot tell whether key %q was published: %w", at.Key, err)
		}
		for _, t := range tl.Data {
			if j.Owner(t.ID) != "" {
				continue
			}
			if created, ok := snowflakeTime(t.ID); ok && created.Before(since) {
				continue
			}
			if matches(t.Text, at.Text, at.Media) {
				r := receipt(t.ID, username, n.now())
				n.remember(j, *at, r)
				return r, true, nil
			}
			strangers++
		}
		if tl.Meta.NextToken == "" {
			if strangers > 0 {
				return sdk.Receipt{}, false, cannotTell(fmt.Sprintf("%d post(s) since then match no text tact sent", strangers))
			}
			return sdk.Receipt{}, false, nil
		}
		token = tl.Meta.NextToken
	}
	return sdk.Receipt{}, false, cannotTell(fmt.Sprintf("the account posted more than %d times since then and none matched", scanPages*100))
}

// Delete removes the post; one already gone is not an error.
func (n *Network) Delete(ctx context.Context, remoteID string) error {
	if remoteID == "" {
		return sdk.Errorf(sdk.Permanent, "x: Delete called without a post id")
	}
	a, _, _, err := n.account()
	if err != nil {
		return err
	}
	status, err := a.do(ctx, http.MethodDelete, "/2/tweets/"+url.PathEscape(remoteID), nil, "", nil)
	if status == http.StatusNotFound {
		return nil
	}
	return err
}

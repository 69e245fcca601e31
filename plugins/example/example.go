// Package example is a complete, minimal tact plugin for "example", a small fictional
// network with an HTTP JSON API. Copy it to start a plugin of your own: it shows settings,
// credential checks, length validation, idempotent publishing, Lookup for crash
// recovery, Delete, optional Trends and typed errors. docs/plugins.md walks through it.
//
// The example API (plugins/example/exampletest serves it for tests):
//
//	GET    /api/me                         who the token belongs to (401 if bad)
//	POST   /api/posts                      {"text","link","language"} + Idempotency-Key header
//	GET    /api/posts?idempotency_key=KEY  the post made with KEY, or 404
//	DELETE /api/posts/ID                   204, or 404
//	GET    /api/trends                     [{"title","url","summary","language"}]
//
// Settings: server (base URL) and token (a secret).
package example

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Version is this plugin's version, reported by Describe.
const Version = "1.0.0"

// MaxLength is the longest post the example network accepts, in code points.
const MaxLength = 280

// settingKeys are the settings Configure understands.
var settingKeys = []string{"server", "token"}

// Network is one account on the example network.
type Network struct {
	http *http.Client
	now  func() time.Time

	mu     sync.Mutex
	server string // base URL, no trailing slash
	token  string
}

// New returns an unconfigured account. client is used for every request; nil means a
// client with no timeout of its own (each call's context carries the deadline).
func New(client *http.Client) *Network {
	if client == nil {
		client = &http.Client{}
	}
	return &Network{http: client, now: time.Now}
}

var (
	_ sdk.Network = (*Network)(nil)
	_ sdk.Trender = (*Network)(nil)
)

// Describe says what the example network accepts. It may be called before Configure.
func (n *Network) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name:          "example",
		Version:       Version,
		MaxLength:     MaxLength,
		Counting:      sdk.CountRunes,
		MaxMedia:      0,
		Capabilities:  []string{"lookup", "delete", "trends"},
		SettingsKeys:  slices.Clone(settingKeys),
		SecretSetting: []string{"token"},
	}, nil
}

// Configure checks the settings and that the token works: a refused token is an Auth
// error, so the daemon holds the account's posts and tells a person.
func (n *Network) Configure(ctx context.Context, settings map[string]string) error {
	if err := sdk.CheckSettingKeys("example", settings, settingKeys); err != nil {
		return err // a typo in tact.toml must not be silently ignored
	}
	u, err := url.Parse(settings["server"])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Shown through config/redact, never as written: a setting read from env: may be a
		// secret, and this message reaches logs and the account's details.
		return sdk.Errorf(sdk.Permanent, "example: setting server must be an http(s) URL such as https://example.net, got %s", redact.SecretURL(settings["server"]))
	}
	if settings["token"] == "" {
		return sdk.Errorf(sdk.Auth, "example: setting token is empty; create an API token on the example network and set it")
	}
	n.mu.Lock()
	n.server, n.token = strings.TrimRight(u.String(), "/"), settings["token"]
	n.mu.Unlock()
	var me struct {
		Name string `json:"name"`
	}
	return n.do(ctx, http.MethodGet, "/api/me", nil, nil, &me)
}

// Validate refuses what the network would: empty or over-long text, any media.
func (n *Network) Validate(_ context.Context, p sdk.Post) ([]sdk.Problem, error) {
	var out []sdk.Problem
	if strings.TrimSpace(p.Text) == "" {
		out = append(out, sdk.Problem{Field: "text", Message: "is empty"})
	}
	if c := sdk.Count(sdk.CountRunes, p.Text); c > MaxLength {
		out = append(out, sdk.Problem{Field: "text", Message: fmt.Sprintf("is %d characters long; the example network allows %d", c, MaxLength)})
	}
	if len(p.Media) > 0 {
		out = append(out, sdk.Problem{Field: "media", Message: "the example network takes no attachments"})
	}
	return out, nil
}

// post is the API's view of a post.
type post struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
}

func (p post) receipt() sdk.Receipt {
	return sdk.Receipt{RemoteID: p.ID, URL: p.URL, PublishedAt: p.CreatedAt}
}

// Publish sends the post with the key as the Idempotency-Key header: the network keeps
// the first post made with a key and answers repeats with it, so a retry after a lost
// answer never posts twice.
func (n *Network) Publish(ctx context.Context, p sdk.Post, key string) (sdk.Receipt, error) {
	if problems, _ := n.Validate(ctx, p); len(problems) > 0 {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "example: refused: %s", problems[0])
	}
	body := map[string]string{"text": p.Text, "link": p.Link, "language": p.Language}
	var created post
	if err := n.do(ctx, http.MethodPost, "/api/posts", body, http.Header{"Idempotency-Key": {key}}, &created); err != nil {
		return sdk.Receipt{}, err
	}
	return created.receipt(), nil
}

// Lookup asks the network for the post made with key. 404 means it was never made.
func (n *Network) Lookup(ctx context.Context, key string) (sdk.Receipt, bool, error) {
	var found post
	err := n.do(ctx, http.MethodGet, "/api/posts?idempotency_key="+url.QueryEscape(key), nil, nil, &found)
	if isNotFound(err) {
		return sdk.Receipt{}, false, nil
	}
	if err != nil {
		return sdk.Receipt{}, false, err
	}
	return found.receipt(), true, nil
}

// Delete removes a post.
func (n *Network) Delete(ctx context.Context, remoteID string) error {
	err := n.do(ctx, http.MethodDelete, "/api/posts/"+url.PathEscape(remoteID), nil, nil, nil)
	if isNotFound(err) {
		return sdk.Errorf(sdk.Permanent, "example: there is no post %q on %s", remoteID, n.serverURL())
	}
	return err
}

func (n *Network) serverURL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.server
}

// Trends returns the network's trending topics.
func (n *Network) Trends(ctx context.Context) ([]sdk.Trend, error) {
	var trends []sdk.Trend
	var raw []struct {
		Title    string `json:"title"`
		URL      string `json:"url"`
		Summary  string `json:"summary"`
		Language string `json:"language"`
	}
	if err := n.do(ctx, http.MethodGet, "/api/trends", nil, nil, &raw); err != nil {
		return nil, err
	}
	for _, t := range raw {
		trends = append(trends, sdk.Trend(t))
	}
	return trends, nil
}

// notFound marks a 404 so Lookup can tell "never published" from a failure.
type notFound struct{ error }

func (e notFound) Unwrap() error { return e.error }

func isNotFound(err error) bool {
	_, ok := err.(notFound)
	return ok
}

// do makes one API call. Every failure comes back typed: a request that did not get an
// answer is Retryable (the network may come back), HTTP errors are typed by status.
func (n *Network) do(ctx context.Context, method, path string, in any, header http.Header, out any) error {
	n.mu.Lock()
	server, token := n.server, n.token
	n.mu.Unlock()
	if server == "" {
		return sdk.Errorf(sdk.Permanent, "example: not configured: the server setting was never given")
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return sdk.Errorf(sdk.Permanent, "example: %v", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, server+path, body)
	if err != nil {
		return sdk.Errorf(sdk.Permanent, "example: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := n.http.Do(req)
	if err != nil {
		// Never include req in messages: its headers hold the token.
		// net/http's error repeats the URL; config/redact hides its password and query.
		return sdk.Errorf(sdk.Retryable, "example: %s %s: %v", method, path, redact.Error(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return sdk.Errorf(sdk.Retryable, "example: reading the answer to %s %s: %v", method, path, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return notFound{sdk.HTTPError(resp.StatusCode, resp.Header, string(raw), n.now())}
	}
	if err := sdk.HTTPError(resp.StatusCode, resp.Header, string(raw), n.now()); err != nil {
		return fmt.Errorf("example: %s %s: %w", method, path, err)
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return sdk.Errorf(sdk.Retryable, "example: %s %s: the server's answer is not the expected JSON: %v", method, path, err)
	}
	return nil
}

package main

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"image"
	pngenc "image/png"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/bluesky/blueskytest"
	"github.com/tact-hq/tact/plugins/mastodon/mastodontest"
)

// secret returns a value that cannot appear anywhere by chance.
func secret(t *testing.T, what string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return what + "-" + hex.EncodeToString(b)
}

// deadAddr is a loopback address nothing listens on: connections to it are refused, so
// requests to it fail with net/http's *url.Error, whose text repeats the URL.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// secretForms are the ways a secret can leak: as it is, percent-encoded, base64-encoded
// (HTTP basic auth) and, for a URL, as Go's HTTP client prints it in errors (the password
// as ***) and as url.URL.Redacted does (xxxxx), which still show the path and the query.
func secretForms(v string) []string {
	forms := []string{v, url.QueryEscape(v), url.PathEscape(v),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.URLEncoding.EncodeToString([]byte(v)),
		base64.RawStdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		if _, ok := u.User.Password(); ok {
			// as net/http's stripPassword writes it
			stars := strings.Replace(u.String(), u.User.String()+"@", u.User.Username()+":***@", 1)
			forms = append(forms, stars, u.Redacted())
		}
		if u.User != nil {
			// name:password as HTTP basic auth sends it
			forms = append(forms, base64.StdEncoding.EncodeToString([]byte(u.User.String())))
		}
	}
	sort.Strings(forms)
	return slicesCompact(forms)
}

func slicesCompact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// TestSecretsNeverShown runs tactd with secrets in every place tact.toml takes one,
// given as env: and file: references where a secret belongs: a Mastodon token, a
// webhook's HMAC key, webhook URLs with a password, a secret path and a ?key=, a
// misconfigured webhook url, a Mastodon server URL with a password, feed URLs with a
// password and a key (inline) or a secret path (env:, file:), and notify webhook URLs.
// Feeds and webhooks FAIL (refused connections, a dropped connection, 404, 500), so
// errors that carry URLs are produced. The test exercises the daemon (publishes, a refused
// publish, an unreachable network, an auth error, a broken rule reload, a declared
// incident) and then searches for each secret, in every form it could take, in the
// daemon's whole log, the answer of every GET route of the API (from its route table, the
// OpenAPI document) as admin and as viewer, every web UI page reachable by links with a
// logged-in session, tactctl's and `tactd --check`'s output, and the audit table. None
// may appear.
func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secrets := map[string]string{
		"mastodon token":            secret(t, "mastodon-token"),
		"webhook hmac key":          secret(t, "hmac-key"),
		"webhook url key":           secret(t, "hook-url-key"),
		"webhook url path":          secret(t, "hook-url-path"),
		"unreachable url key":       secret(t, "dead-url-key"),
		"unreachable url password":  secret(t, "dead-url-pass"),
		"unreachable url path":      secret(t, "dead-url-path"),
		"misconfigured url key":     secret(t, "misconf-key"),
		"misconfigured url path":    secret(t, "misconf-path"),
		"misconfigured url pass":    secret(t, "misconf-pass"),
		"mastodon server password":  secret(t, "masto-server-pass"),
		"notify url token":          secret(t, "notify-token"),
		"dead notify url password":  secret(t, "dead-notify-pass"),
		"dead notify url path":      secret(t, "dead-notify-path"),
		"dead notify url token":     secret(t, "dead-notify-token"),
		"refusing notify url path":  secret(t, "refusing-notify-path"),
		"inline feed url password":  secret(t, "feed-pass"),
		"inline feed url key":       secret(t, "feed-key"),
		"env feed url path":         secret(t, "env-feed-path"),
		"env feed url token":        secret(t, "env-feed-token"),
		"file feed url path":        secret(t, "file-feed-path"),
		"file feed url key":         secret(t, "file-feed-key"),
		"dropping feed url path":    secret(t, "dropping-feed-path"),
		"dropping feed url userkey": secret(t, "dropping-feed-user"),
		"media url password":        secret(t, "media-url-pass"),
		"media url key":             secret(t, "media-url-key"),
		"bluesky app password":      secret(t, "bsky-app-pass"),
	}
	s := func(what string) string {
		v, ok := secrets[what]
		if !ok {
			t.Fatalf("no secret %q", what)
		}
		return v
	}

	masto := mastodontest.New()
	defer masto.Close()
	masto.Token = s("mastodon token")
	// Accounts connected from tact (issue 12): their tokens, the app's client secret, the
	// app password and the secrets_key itself are searched for too.
	mastoConnected := mastodontest.New()
	defer mastoConnected.Close()
	sky := blueskytest.New()
	defer sky.Close()
	sky.AppPassword = s("bluesky app password")
	secretsKey := make([]byte, 32)
	if _, err := rand.Read(secretsKey); err != nil {
		t.Fatal(err)
	}
	secrets["secrets key"] = base64.StdEncoding.EncodeToString(secretsKey)
	secrets["secrets key in hex"] = hex.EncodeToString(secretsKey)
	keyFile := filepath.Join(dir, "secrets.key")
	if err := os.WriteFile(keyFile, []byte(secrets["secrets key"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var notified []string
	notifySrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		notified = append(notified, string(b))
		mu.Unlock()
	}))
	defer notifySrv.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost && strings.Contains(string(b), "REFUSE") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"this receiver refuses the post"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"h-1","url":"https://hooks.test/h-1"}`)
	}))
	defer hook.Close()
	// Feeds and notify webhooks that fail: 404 and 500 answers, and a connection dropped
	// before any answer (an *url.Error: "Get "…": EOF").
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/drop/"):
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				c.Close()
			}
		case strings.HasPrefix(r.URL.Path, "/hooks/"):
			http.NotFound(w, r)
		default:
			http.Error(w, "feed generator down", http.StatusInternalServerError)
		}
	}))
	defer failing.Close()
	dead := deadAddr(t)

	// The secrets reach the daemon only through references, except the inline feed URL's
	// (a feed URL is not a secret as a whole: its password and key still are).
	hmacFile := filepath.Join(dir, "hmac.secret")
	fileFeed := filepath.Join(dir, "feed-url.secret")
	refusingNotify := filepath.Join(dir, "notify-url.secret")
	for path, v := range map[string]string{
		hmacFile:       s("webhook hmac key"),
		fileFeed:       failing.URL + "/feeds/" + s("file feed url path") + "/rss.xml?key=" + s("file feed url key"),
		refusingNotify: failing.URL + "/hooks/" + s("refusing notify url path"),
	} {
		if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"TACT_SECRETS_TEST_MASTODON_TOKEN": s("mastodon token"),
		"TACT_SECRETS_TEST_HOOK_URL":       hook.URL + "/in/" + s("webhook url path") + "?key=" + s("webhook url key"),
		"TACT_SECRETS_TEST_DEAD_URL":       "http://hooker:" + s("unreachable url password") + "@" + dead + "/in/" + s("unreachable url path") + "?key=" + s("unreachable url key"),
		"TACT_SECRETS_TEST_MISCONF_URL":    "ftp://misconf:" + s("misconfigured url pass") + "@hooks.test/" + s("misconfigured url path") + "?key=" + s("misconfigured url key"),
		"TACT_SECRETS_TEST_MASTO_SERVER":   "http://masto:" + s("mastodon server password") + "@" + dead,
		"TACT_SECRETS_TEST_NOTIFY":         notifySrv.URL + "/notify?token=" + s("notify url token"),
		"TACT_SECRETS_TEST_DEAD_NOTIFY":    "http://alerts:" + s("dead notify url password") + "@" + dead + "/hooks/" + s("dead notify url path") + "?token=" + s("dead notify url token"),
		"TACT_SECRETS_TEST_ENV_FEED":       "http://" + dead + "/private/" + s("env feed url path") + "/rss.xml?token=" + s("env feed url token"),
		"TACT_SECRETS_TEST_DROPPING_FEED":  "http://" + s("dropping feed url userkey") + "@" + strings.TrimPrefix(failing.URL, "http://") + "/drop/" + s("dropping feed url path"),
	}
	for k, v := range env {
		os.Setenv(k, v) // unique names: no other test reads them
		t.Cleanup(func() { os.Unsetenv(k) })
	}
	// Whole URLs are searched for too, in every form (Go's "***" form among them).
	urls := map[string]string{}
	for k, v := range env {
		if strings.Contains(v, "://") {
			urls["the URL in "+k] = v
		}
	}
	inlineFeed := "http://reader:" + s("inline feed url password") + "@" + dead + "/news/rss.xml?key=" + s("inline feed url key")
	urls["the inline feed URL"] = inlineFeed
	for _, f := range []string{fileFeed, refusingNotify} {
		b, _ := os.ReadFile(f)
		urls["the URL in "+filepath.Base(f)] = strings.TrimSpace(string(b))
	}

	rulesGlob := writeRules(t, dir)
	cfg := `
[daemon]
data_dir    = "DATA/data"
listen      = "127.0.0.1:0"
rules       = ["` + rulesGlob + `"]
log_level   = "debug"
public_url  = "http://tact.secrets.test"
secrets_key = "file:` + keyFile + `"

[[account]]
name    = "masto-connected"
plugin  = "mastodon"
spacing = "1ms"
[account.settings]
server = "` + mastoConnected.URL + `"

[[account]]
name    = "sky-connected"
plugin  = "bluesky"
spacing = "1ms"
[account.settings]
service = "` + sky.URL + `"

[[account]]
name    = "masto"
plugin  = "mastodon"
spacing = "1ms"
[account.settings]
server = "` + masto.URL + `"
token  = "env:TACT_SECRETS_TEST_MASTODON_TOKEN"

[[account]]
name    = "masto-dead"
plugin  = "mastodon"
[account.settings]
server = "env:TACT_SECRETS_TEST_MASTO_SERVER"
token  = "env:TACT_SECRETS_TEST_MASTODON_TOKEN"

[[account]]
name    = "hook"
plugin  = "webhook"
spacing = "1ms"
[account.settings]
url    = "env:TACT_SECRETS_TEST_HOOK_URL"
secret = "file:` + hmacFile + `"

[[account]]
name    = "dead"
plugin  = "webhook"
spacing = "1ms"
[account.settings]
url     = "env:TACT_SECRETS_TEST_DEAD_URL"
secret  = "file:` + hmacFile + `"
timeout = "2s"

[[account]]
name    = "misconfigured"
plugin  = "webhook"
[account.settings]
url    = "env:TACT_SECRETS_TEST_MISCONF_URL"
secret = "file:` + hmacFile + `"

[[feed]]
name  = "inline-feed"
url   = "` + inlineFeed + `"
every = "1s"

[[feed]]
name  = "env-feed"
url   = "env:TACT_SECRETS_TEST_ENV_FEED"
every = "1s"

[[feed]]
name  = "file-feed"
url   = "file:` + fileFeed + `"
every = "1s"

[[feed]]
name  = "dropping-feed"
url   = "env:TACT_SECRETS_TEST_DROPPING_FEED"
every = "1s"

[[notify]]
kind = "webhook"
url  = "env:TACT_SECRETS_TEST_NOTIFY"

[[notify]]
kind = "webhook"
url  = "env:TACT_SECRETS_TEST_DEAD_NOTIFY"

[[notify]]
kind = "webhook"
url  = "file:` + refusingNotify + `"
`
	d := startDaemon(t, dir, cfg)
	var seen []string // every answer and output the test got
	record := func(what string, b []byte) { seen = append(seen, what+": "+string(b)) }
	call := func(want int, method, path string, body any) []byte {
		b := d.mustCall(t, want, method, path, body)
		record(method+" "+path, b)
		return b
	}
	// Connect two accounts from tact: Mastodon through its consent page (the browser's way
	// back played by a GET on the daemon), Bluesky with its app password.
	var started struct {
		AuthURL string `json:"auth_url"`
	}
	if err := json.Unmarshal(call(200, "POST", "/api/v1/accounts/masto-connected/connect", nil), &started); err != nil {
		t.Fatal(err)
	}
	back, err := mastoConnected.Approve(started.AuthURL)
	if err != nil {
		t.Fatal(err)
	}
	cbCode, cbBody := bearerGet(t, d.addr, strings.TrimPrefix(back, "http://tact.secrets.test"), "")
	record("GET /oauth/callback", cbBody)
	if cbCode != http.StatusOK || !strings.Contains(string(cbBody), "Connected as") {
		t.Fatalf("connecting masto-connected: %d %s", cbCode, cbBody)
	}
	call(200, "POST", "/api/v1/accounts/sky-connected/connect", map[string]any{"settings": map[string]string{"identifier": sky.Handle, "app_password": s("bluesky app password")}})

	for _, c := range []struct{ name, account string }{{"m", "masto"}, {"h", "hook"}, {"x", "dead"}, {"md", "masto-dead"}, {"mc", "misconfigured"}, {"mcon", "masto-connected"}, {"scon", "sky-connected"}} {
		call(201, "POST", "/api/v1/campaigns", map[string]any{"name": c.name, "accounts": []string{c.account}, "topics": []string{"news"}})
	}
	soon := func() string { return time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano) }
	post := func(campaign, text string) int64 {
		var p postView
		b := call(201, "POST", "/api/v1/posts", map[string]any{"campaign": campaign, "text": text, "at": soon()})
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		call(200, "POST", fmt.Sprintf("/api/v1/posts/%d/approve", p.ID), map[string]any{})
		return p.ID
	}
	diag := func() string { return tail(d.logs.String(), 6000) }
	waitState := func(id int64, states ...string) {
		waitFor(t, 60*time.Second, fmt.Sprintf("post %d to be %v", id, states), func() bool {
			st, _ := d.deliveries(t, id)
			for _, s := range states {
				if st == s {
					return true
				}
			}
			return false
		}, diag)
	}
	okConnected := post("mcon", "Published with a connected token")
	okSky := post("scon", "Published with an app password")
	okMasto := post("m", "Published on Mastodon")
	okHook := post("h", "Published through the webhook")
	refused := post("h", "REFUSE this one please")
	unreachable := post("x", "The network is down")
	waitState(okMasto, "published")
	waitState(okConnected, "published")
	waitState(okSky, "published")
	for i, tok := range mastoConnected.IssuedTokens() {
		secrets[fmt.Sprintf("connected mastodon token %d", i)] = tok
	}
	for i, cs := range mastoConnected.ClientSecrets() {
		secrets[fmt.Sprintf("connected mastodon client secret %d", i)] = cs
	}
	if len(mastoConnected.IssuedTokens()) != 1 || len(mastoConnected.ClientSecrets()) != 1 {
		t.Fatalf("the connected account: %d tokens, %d client secrets", len(mastoConnected.IssuedTokens()), len(mastoConnected.ClientSecrets()))
	}
	waitState(okHook, "published")
	waitState(refused, "failed")
	// The unreachable network: a retry is planned with the error recorded.
	waitFor(t, 60*time.Second, "the unreachable publish to fail once", func() bool {
		_, ds := d.deliveries(t, unreachable)
		return len(ds) == 1 && ds[0].LastError != ""
	}, diag)
	// The accounts whose plugin refuses its settings or cannot reach its server: the post
	// cannot be validated, and the answer says why.
	for _, c := range []string{"md", "mc"} {
		code, b := d.call("POST", "/api/v1/posts", map[string]any{"campaign": c, "text": "Its account is broken", "at": soon()})
		record(fmt.Sprintf("POST /api/v1/posts to %s (%d)", c, code), b)
	}

	// An auth error: the token is revoked on the server.
	masto.Revoke()
	revoked := post("m", "Posted after the token was revoked")
	waitFor(t, 60*time.Second, "the auth error to be recorded", func() bool {
		st, ds := d.deliveries(t, revoked)
		return st == "held" || st == "failed" || len(ds) == 1 && ds[0].LastError != ""
	}, diag)

	// An attachment uploaded, and one asked for by a URL with a password and a key, which
	// the daemon refuses to fetch (a loopback address).
	mediaID := uploadPNG(t, d)
	mediaURL := "http://pics:" + s("media url password") + "@" + dead + "/p.png?key=" + s("media url key")
	urls["the media URL"] = mediaURL
	code, b := d.call("POST", "/api/v1/media", map[string]any{"url": mediaURL})
	record(fmt.Sprintf("POST /api/v1/media {url} (%d)", code), b)
	if code < 400 {
		t.Errorf("a media URL on loopback was fetched: %d %s", code, b)
	}

	// A rule reload that fails.
	if err := os.WriteFile(filepath.Join(dir, "rules.d", "broken.toml"), []byte("[[rule]]\nid = \"broken\"\naction = \"explode\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, b = d.call("POST", "/api/v1/rules/reload", nil)
	record(fmt.Sprintf("POST /api/v1/rules/reload (%d)", code), b)
	if !strings.Contains(string(b), "explode") {
		t.Fatalf("the broken reload is not reported: %d %s", code, b)
	}
	call(201, "POST", "/api/v1/incidents", map[string]any{"rule": "volcano", "note": "declared by the secrets test"})

	// Every feed has failed (twice, so that the backoff path ran), every account was
	// asked for, and both failing notify webhooks failed: the errors that carry URLs exist.
	type feedInfo struct {
		Name      string `json:"name"`
		URL       string `json:"url"`
		LastError string `json:"last_error"`
		Failures  int    `json:"failures"`
	}
	var feeds []feedInfo
	waitFor(t, 60*time.Second, "every feed to fail twice", func() bool {
		var st struct {
			Feeds []feedInfo `json:"feeds"`
		}
		if json.Unmarshal(d.mustCall(t, 200, "GET", "/api/v1/status", nil), &st) != nil || len(st.Feeds) != 4 {
			return false
		}
		feeds = st.Feeds
		for _, f := range st.Feeds {
			if f.Failures < 2 {
				return false
			}
		}
		return true
	}, diag)
	// What the status shows of each feed still tells an admin which feed fails and why.
	failingHost := strings.TrimPrefix(failing.URL, "http://")
	want := map[string][2]string{
		"inline-feed":   {"http://xxxxx:xxxxx@" + dead + "/news/rss.xml?key=xxxxx", "connection refused"},
		"env-feed":      {"http://" + dead + "/xxxxx?token=xxxxx", "connection refused"},
		"file-feed":     {"http://" + failingHost + "/xxxxx?key=xxxxx", "500 Internal Server Error"},
		"dropping-feed": {"http://xxxxx@" + failingHost + "/xxxxx", "EOF"},
	}
	for _, f := range feeds {
		if w := want[f.Name]; f.URL != w[0] || !strings.Contains(f.LastError, w[1]) {
			t.Errorf("feed %s in the status: url %q, last error %q; want url %q and an error saying %q", f.Name, f.URL, f.LastError, w[0], w[1])
		}
	}
	waitFor(t, 60*time.Second, "the failing notify webhooks to fail", func() bool {
		logs := d.logs.String()
		return strings.Contains(logs, `"msg":"webhook failed, retrying"`) && strings.Contains(logs, `"msg":"notification not delivered"`)
	}, diag)
	var accts struct {
		Items []struct {
			Name    string `json:"name"`
			Healthy bool   `json:"healthy"`
			Detail  string `json:"detail"`
		} `json:"items"`
	}
	if err := json.Unmarshal(call(200, "GET", "/api/v1/accounts", nil), &accts); err != nil {
		t.Fatal(err)
	}
	for _, a := range accts.Items {
		if (a.Name == "misconfigured" || a.Name == "masto-dead") && (a.Healthy || a.Detail == "") {
			t.Errorf("account %s is not reported as needing attention: %+v", a.Name, a)
		}
	}

	// Every GET route of the API's route table, as admin and as viewer, with every id the
	// run produced.
	var created struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(call(201, "POST", "/api/v1/users", map[string]any{"name": "watcher", "role": "viewer"}), &created); err != nil || created.Token == "" {
		t.Fatalf("creating a viewer: %v %+v", err, created)
	}
	var openapi struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(call(200, "GET", "/api/v1/openapi.json", nil), &openapi); err != nil {
		t.Fatal(err)
	}
	var incidents struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(call(200, "GET", "/api/v1/incidents", nil), &incidents); err != nil {
		t.Fatal(err)
	}
	params := map[string][]string{
		"{campaign}": {"m", "h", "x", "md", "mc", "mcon", "scon"},
		"{name}":     {"watcher", "admin"},
	}
	var postIDs, incidentIDs []string
	for _, id := range []int64{okMasto, okHook, refused, unreachable, revoked, okConnected, okSky} {
		postIDs = append(postIDs, fmt.Sprint(id))
	}
	for _, in := range incidents.Items {
		incidentIDs = append(incidentIDs, fmt.Sprint(in.ID))
	}
	var routes []string
	for path, ops := range openapi.Paths {
		if _, ok := ops["get"]; !ok {
			continue
		}
		switch {
		case strings.Contains(path, "/posts/{id}"):
			for _, id := range postIDs {
				routes = append(routes, strings.Replace(path, "{id}", id, 1))
			}
		case strings.Contains(path, "/media/{id}"):
			routes = append(routes, strings.Replace(path, "{id}", mediaID, 1))
		case strings.Contains(path, "/incidents/{id}"):
			for _, id := range incidentIDs {
				routes = append(routes, strings.Replace(path, "{id}", id, 1))
			}
		case strings.Contains(path, "{"):
			p := path[strings.Index(path, "{"):]
			p = p[:strings.Index(p, "}")+1]
			vals, ok := params[p]
			if !ok {
				t.Fatalf("GET %s: the test does not know values for %s; add them", path, p)
			}
			for _, v := range vals {
				routes = append(routes, strings.Replace(path, p, v, 1))
			}
		default:
			routes = append(routes, path)
		}
	}
	routes = append(routes, "/api/v1/audit?since=24h&limit=1000", "/api/v1/context?since=24h", "/api/v1/posts?limit=500", "/metrics")
	sort.Strings(routes)
	if len(routes) < 15 {
		t.Fatalf("only %d GET routes found in the OpenAPI document: %v", len(routes), routes)
	}
	for _, path := range routes {
		for _, who := range []struct{ role, token string }{{"admin", d.token}, {"viewer", created.Token}} {
			code, b := bearerGet(t, d.addr, path, who.token)
			record(fmt.Sprintf("GET %s as %s (%d)", path, who.role, code), b)
			if who.role == "admin" && code != http.StatusOK {
				t.Errorf("GET %s as admin: %d %s", path, code, b)
			}
		}
	}

	// Every page of the web UI reachable by links, with a logged-in session.
	pages := 0
	for _, who := range []struct{ role, token string }{{"admin", d.token}, {"viewer", created.Token}} {
		for page, body := range crawlWebUI(t, d.addr, who.token) {
			record("web page "+page+" as "+who.role, body)
			pages++
		}
	}

	for _, args := range [][]string{{"status"}, {"--json", "status"}, {"plugin", "list"}, {"audit", "--since", "1h"}, {"queue"}, {"--json", "queue"},
		{"incident", "list"}, {"campaign", "list"}, {"user", "list"}, {"account", "list"}, {"--json", "account", "list"}} {
		out, errOut, _ := d.ctlCode(args...)
		record("tactctl "+strings.Join(args, " "), []byte(out+errOut))
	}
	check := exec.Command(filepath.Join(binDir, "tactd"), "--config", filepath.Join(dir, "tact.toml"), "--check")
	out, _ := check.CombinedOutput()
	record("tactd --check", out)
	mu.Lock()
	if len(notified) == 0 {
		t.Errorf("no notification reached the notify webhook: the failure path was not exercised")
	}
	record("notifications received", []byte(strings.Join(notified, "\n")))
	mu.Unlock()

	// The audit table itself, every column.
	db := openReadOnly(t, d.dataDir)
	rows, err := db.Query(`SELECT at, actor_kind, actor_name, action, object, detail FROM audit`)
	if err != nil {
		t.Fatal(err)
	}
	var audit strings.Builder
	for rows.Next() {
		var at int64
		var kind, name, action, object, detail sql.NullString
		if err := rows.Scan(&at, &kind, &name, &action, &object, &detail); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&audit, kind.String, name.String, action.String, object.String, detail.String)
	}
	rows.Close()
	// Stop the daemon so that its log is complete (shutdown lines, the notify webhooks'
	// last attempts).
	d.stop(syscall.SIGTERM)

	places := map[string]string{"the daemon's log": d.logs.String(), "the audit table": audit.String()}
	for i, s := range seen {
		places[fmt.Sprintf("answer %d (%.70s)", i, s)] = s
	}
	all := map[string]string{}
	for k, v := range secrets {
		all[k] = v
	}
	for k, v := range urls {
		all[k] = v
	}
	leaks, searched := 0, 0
	for what, val := range all {
		for _, form := range secretForms(val) {
			searched++
			for where, text := range places {
				if i := strings.Index(text, form); i >= 0 {
					leaks++
					lo, hi := max(0, i-200), min(len(text), i+len(form)+100)
					t.Errorf("%s (as %q) appears in %s: …%s…", what, form, where, text[lo:hi])
				}
			}
		}
	}
	t.Logf("searched %d places (%d bytes of log, %d answers, %d web pages, %d API routes) for %d forms of %d secrets: %d leaks",
		len(places), len(d.logs.String()), len(seen), pages, len(routes), searched, len(all), leaks)
}

// uploadPNG uploads a small PNG as an attachment and returns its id.
func uploadPNG(t *testing.T, d *daemonProc) string {
	t.Helper()
	var png bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	if err := pngenc.Encode(&png, img); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.addr+"/api/v1/media", &png)
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "image/png")
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		ID string `json:"id"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &m) != nil || m.ID == "" {
		t.Fatalf("uploading a PNG: %d %s", resp.StatusCode, b)
	}
	return m.ID
}

// bearerGet is a GET with a bearer token, answered within a bounded wait.
func bearerGet(t *testing.T, addr, path, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

var (
	hrefAttr  = regexp.MustCompile(`href="([^"]*)"`)
	csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// crawlWebUI logs in to the web UI with token, as a browser would (the login form and its
// CSRF field), then GETs every same-site page reachable by links from the queue page and
// returns each page's body by path.
func crawlWebUI(t *testing.T, addr, token string) map[string][]byte {
	t.Helper()
	base := "http://" + addr
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	get := func(path string) (int, []byte) {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	_, login := get("/login")
	m := csrfInput.FindSubmatch(login)
	if m == nil {
		t.Fatalf("no csrf field on the login page:\n%s", login)
	}
	resp, err := c.PostForm(base+"/login", url.Values{"csrf": {html.UnescapeString(string(m[1]))}, "token": {token}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	pages := map[string][]byte{}
	variants := map[string]int{} // pages per path: the calendar links to every month
	queue := []string{"/", "/calendar", "/campaigns", "/incidents", "/rules", "/audit", "/import"}
	for len(queue) > 0 && len(pages) < 400 {
		path := queue[0]
		queue = queue[1:]
		if _, done := pages[path]; done || variants[strings.SplitN(path, "?", 2)[0]] >= 5 {
			continue
		}
		variants[strings.SplitN(path, "?", 2)[0]]++
		code, body := get(path)
		if code != http.StatusOK {
			t.Errorf("web page %s: %d", path, code)
		}
		if path == "/" && !strings.Contains(string(body), "section-pending") {
			t.Fatalf("the web UI login did not take: GET / answered\n%.2000s", body)
		}
		pages[path] = body
		for _, h := range hrefAttr.FindAllSubmatch(body, -1) {
			link := html.UnescapeString(string(h[1]))
			u, err := url.Parse(link)
			if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "/static/") {
				continue
			}
			u.Fragment = ""
			if _, done := pages[u.String()]; !done {
				queue = append(queue, u.String())
			}
		}
	}
	return pages
}

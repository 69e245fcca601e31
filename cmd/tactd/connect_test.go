package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/bluesky/blueskytest"
	"github.com/tact-hq/tact/plugins/mastodon/mastodontest"
)

// Connecting accounts end to end: the real tactd and tactctl, the real mastodon and
// bluesky plugin processes, against the plugins' fake servers; the browser's part (open
// the consent page, approve, follow the redirect back to tactd) is played by the fake's
// Approve and an HTTP GET of the URL it sends the browser to (connect_browser_test.go
// plays it in Chromium).

// connectEnv is a daemon with a Mastodon account and a Bluesky account that are not
// connected, a secrets_key and a public_url that is its own address.
type connectEnv struct {
	d      *daemonProc
	dir    string
	masto  *mastodontest.Server
	sky    *blueskytest.Server
	public string
	key    string
}

func connectConfig(dir, listen, public, keyRef string, masto *mastodontest.Server, sky *blueskytest.Server, rulesGlob string) string {
	daemon := fmt.Sprintf("[daemon]\ndata_dir = \"DATA/data\"\nlisten = %q\nrules = [%q]\nlog_level = \"debug\"\n", listen, rulesGlob)
	if public != "" {
		daemon += fmt.Sprintf("public_url = %q\n", public)
	}
	if keyRef != "" {
		daemon += fmt.Sprintf("secrets_key = %q\n", keyRef)
	}
	return daemon + `
[[account]]
name    = "brand-mastodon"
plugin  = "mastodon"
spacing = "1ms"
[account.settings]
server = "` + masto.URL + `"

[[account]]
name    = "brand-bluesky"
plugin  = "bluesky"
spacing = "1ms"
[account.settings]
service = "` + sky.URL + `"

[[account]]
name   = "hook"
plugin = "webhook"
[account.settings]
url = "http://127.0.0.1:9/never"
`
}

func newConnectEnv(t *testing.T) *connectEnv {
	t.Helper()
	e := &connectEnv{dir: t.TempDir(), masto: mastodontest.New(), sky: blueskytest.New()}
	t.Cleanup(e.masto.Close)
	t.Cleanup(e.sky.Close)
	key := make([]byte, 32)
	rand.Read(key)
	e.key = base64.StdEncoding.EncodeToString(key)
	keyFile := filepath.Join(e.dir, "secrets.key")
	if err := os.WriteFile(keyFile, []byte(e.key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := deadAddr(t) // a free port, so that public_url can name it before tactd starts
	e.public = "http://" + listen
	e.d = startDaemon(t, e.dir, connectConfig(e.dir, listen, e.public, "file:"+keyFile, e.masto, e.sky, writeRules(t, e.dir)))
	return e
}

// browse is the browser following the consent page's redirect back to tactd: a GET of
// the callback, without any credential.
func browse(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type accountView struct {
	Name       string `json:"name"`
	Healthy    bool   `json:"healthy"`
	Connect    string `json:"connect"`
	Connection *struct {
		Kind        string    `json:"kind"`
		ConnectedAs string    `json:"connected_as"`
		ConnectedBy string    `json:"connected_by"`
		ConnectedAt time.Time `json:"connected_at"`
	} `json:"connection"`
	LastPublishedAt time.Time `json:"last_published_at"`
	NeedsAttention  []string  `json:"needs_attention"`
}

func (d *daemonProc) account(t *testing.T, name string) accountView {
	t.Helper()
	var l struct {
		Items []accountView `json:"items"`
	}
	if err := json.Unmarshal(d.mustCall(t, 200, "GET", "/api/v1/accounts", nil), &l); err != nil {
		t.Fatal(err)
	}
	for _, a := range l.Items {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no account %s in GET /api/v1/accounts", name)
	return accountView{}
}

// dbFiles is the daemon's SQLite file and its write-ahead log, as bytes.
func (d *daemonProc) dbFiles(t *testing.T) []byte {
	t.Helper()
	var out []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(d.dataDir, "tact.db"+suffix))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// publishVia creates, approves and waits out a post to account.
func (d *daemonProc) publishVia(t *testing.T, campaign, account, text string) {
	t.Helper()
	d.mustCall(t, 201, "POST", "/api/v1/campaigns", map[string]any{"name": campaign, "accounts": []string{account}, "topics": []string{"news"}})
	var p postView
	if err := json.Unmarshal(d.mustCall(t, 201, "POST", "/api/v1/posts", map[string]any{"campaign": campaign, "text": text,
		"at": time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)}), &p); err != nil {
		t.Fatal(err)
	}
	d.mustCall(t, 200, "POST", fmt.Sprintf("/api/v1/posts/%d/approve", p.ID), map[string]any{})
	waitFor(t, 60*time.Second, "post "+text+" to be published", func() bool {
		st, _ := d.deliveries(t, p.ID)
		return st == "published"
	}, func() string {
		st, ds := d.deliveries(t, p.ID)
		return fmt.Sprintf("%s %+v\n%s", st, ds, tail(d.logs.String(), 4000))
	})
}

func TestConnectAccountsEndToEnd(t *testing.T) {
	t.Parallel()
	e := newConnectEnv(t)
	d := e.d
	host := strings.TrimPrefix(e.masto.URL, "http://")

	// Before: not connected, and said so.
	a := d.account(t, "brand-mastodon")
	if a.Connect != "oauth" || a.Connection != nil || a.Healthy || !strings.Contains(strings.Join(a.NeedsAttention, ";"), "not connected") {
		t.Fatalf("before connecting: %+v", a)
	}
	if h := d.account(t, "hook"); h.Connect != "" || len(h.NeedsAttention) != 0 {
		t.Fatalf("the webhook account: %+v", h)
	}
	out := d.ctl(t, "account", "list")
	if r := row(t, out, "brand-mastodon"); len(r) < 4 || r[2] != "needs attention" || r[3] != "not connected" {
		t.Fatalf("account list before connecting:\n%s", out)
	}

	// The API: the consent page, approved, and the browser sent back to tactd.
	var st struct {
		AuthURL   string    `json:"auth_url"`
		State     string    `json:"state"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(d.mustCall(t, 200, "POST", "/api/v1/accounts/brand-mastodon/connect", nil), &st); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(st.AuthURL, e.masto.URL+"/oauth/authorize?") || st.State == "" || time.Until(st.ExpiresAt) < 9*time.Minute {
		t.Fatalf("connect answered %+v", st)
	}
	back, err := e.masto.Approve(st.AuthURL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(back, e.public+"/oauth/callback?") {
		t.Fatalf("the network sends the browser to %s, not to public_url/oauth/callback", back)
	}
	// A forged state first: refused, nothing changes.
	forged := strings.Replace(back, "state="+url.QueryEscape(st.State), "state=forged", 1)
	if code, body := browse(t, forged); code != http.StatusBadRequest || !strings.Contains(body, "start again") {
		t.Fatalf("a forged state: %d\n%s", code, body)
	}
	code, body := browse(t, back)
	if code != http.StatusOK || !strings.Contains(body, "Connected as @tact@"+host) {
		t.Fatalf("the callback: %d\n%s\n%s", code, body, tail(d.logs.String(), 4000))
	}
	if code, body := browse(t, back); code != http.StatusBadRequest || !strings.Contains(body, "already completed") {
		t.Fatalf("the same callback again: %d\n%s", code, body)
	}
	a = d.account(t, "brand-mastodon")
	if a.Connection == nil || a.Connection.ConnectedAs != "@tact@"+host || a.Connection.ConnectedBy != "admin" || !a.Healthy || len(a.NeedsAttention) != 0 {
		t.Fatalf("after connecting: %+v", a)
	}
	// The account's plugin process has the token: a post goes out.
	d.publishVia(t, "m", "brand-mastodon", "Published with the connected token")
	if sts := e.masto.Statuses(); len(sts) != 1 || sts[0].Text != "Published with the connected token" {
		t.Fatalf("statuses %+v", sts)
	}
	if d.account(t, "brand-mastodon").LastPublishedAt.IsZero() {
		t.Error("the account shows no last publish")
	}

	// tactctl account connect: prints the page, waits, and sees the account connected.
	ctl := exec.Command(filepath.Join(binDir, "tactctl"), "account", "connect", "brand-mastodon", "--timeout", "2m")
	ctl.Env = append(os.Environ(), "TACT_SERVER=http://"+d.addr, "TACT_TOKEN="+d.token)
	stdout, _ := ctl.StdoutPipe()
	var stderr bytes.Buffer
	ctl.Stderr = &stderr
	if err := ctl.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var printed []string
	authURL := ""
	for authURL == "" && sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		printed = append(printed, line)
		if strings.HasPrefix(line, e.masto.URL+"/oauth/authorize?") {
			authURL = line
		}
	}
	if authURL == "" {
		ctl.Process.Kill()
		t.Fatalf("tactctl account connect printed no consent page:\n%s\n%s", strings.Join(printed, "\n"), stderr.String())
	}
	back, err = e.masto.Approve(authURL)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := browse(t, back); code != http.StatusOK {
		t.Fatalf("the callback of tactctl's flow: %d\n%s", code, body)
	}
	rest, _ := io.ReadAll(stdout)
	if err := ctl.Wait(); err != nil || !strings.Contains(string(rest), "Connected brand-mastodon as @tact@"+host) {
		t.Fatalf("tactctl account connect: %v\nstdout: %s\n%s\nstderr: %s", err, strings.Join(printed, "\n"), rest, stderr.String())
	}

	// Bluesky's app password, through tactctl (stdin): a wrong one is refused.
	wrong := exec.Command(filepath.Join(binDir, "tactctl"), "account", "connect", "brand-bluesky", "--identifier", e.sky.Handle)
	wrong.Env = ctl.Env
	wrong.Stdin = strings.NewReader("not-the-password\n")
	if out, err := wrong.CombinedOutput(); err == nil || !strings.Contains(string(out), "did not accept these credentials") {
		t.Fatalf("a wrong app password: %v\n%s", err, out)
	}
	right := exec.Command(filepath.Join(binDir, "tactctl"), "account", "connect", "brand-bluesky", "--identifier", e.sky.Handle)
	right.Env = ctl.Env
	right.Stdin = strings.NewReader(e.sky.AppPassword + "\n")
	if out, err := right.CombinedOutput(); err != nil || !strings.Contains(string(out), "Connected brand-bluesky as "+e.sky.Handle) {
		t.Fatalf("the app password: %v\n%s", err, out)
	}
	d.publishVia(t, "b", "brand-bluesky", "Published with the app password")

	out = d.ctl(t, "account", "list")
	if r := row(t, out, "brand-mastodon"); r[2] != "ok" || r[3] != "@tact@"+host || r[4] != "never" {
		t.Fatalf("account list after connecting:\n%s", out)
	}
	if r := row(t, out, "brand-bluesky"); r[2] != "ok" || r[3] != e.sky.Handle {
		t.Fatalf("account list after connecting:\n%s", out)
	}

	// What the store holds: no token, password or client secret in clear.
	files := d.dbFiles(t)
	secrets := append(e.masto.IssuedTokens(), e.masto.ClientSecrets()...)
	secrets = append(secrets, e.sky.AppPassword)
	if len(secrets) < 4 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}
	for _, s := range secrets {
		for _, form := range secretForms(s) {
			if bytes.Contains(files, []byte(form)) {
				t.Errorf("the SQLite files hold a connected credential (as %q)", form)
			}
		}
	}
	var n int
	if err := openReadOnly(t, d.dataDir).QueryRow(`SELECT COUNT(*) FROM credentials WHERE length(ciphertext) > 0 AND key_id <> ''`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("credentials rows: %d (%v)", n, err)
	}

	// Restarted, tactd opens them again: both accounts publish.
	d.stop(syscall.SIGTERM)
	d2 := startDaemon(t, e.dir, mustRead(t, filepath.Join(e.dir, "tact.toml")))
	d2.publishVia(t, "m2", "brand-mastodon", "Published after a restart")
	d2.publishVia(t, "b2", "brand-bluesky", "Published on Bluesky after a restart")
	for _, s := range secrets {
		if strings.Contains(d.logs.String()+d2.logs.String(), s) {
			t.Errorf("the daemon's log holds a connected credential")
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Without secrets_key, or without public_url, connecting is refused with what to set,
// and nothing reaches the network.
func TestConnectRefusedWithoutKeyOrPublicURL(t *testing.T) {
	t.Parallel()
	masto, sky := mastodontest.New(), blueskytest.New()
	defer masto.Close()
	defer sky.Close()
	dir := t.TempDir()
	d := startDaemon(t, dir, connectConfig(dir, "127.0.0.1:0", "https://tact.example", "", masto, sky, writeRules(t, dir)))
	code, b := d.call("POST", "/api/v1/accounts/brand-mastodon/connect", nil)
	if code != http.StatusConflict || !strings.Contains(string(b), "secrets_key") || !strings.Contains(string(b), "head -c32 /dev/urandom | base64") {
		t.Fatalf("connect without secrets_key: %d %s", code, b)
	}
	_, errOut, exit := d.ctlCode("account", "connect", "brand-mastodon")
	if exit == 0 || !strings.Contains(errOut, "secrets_key") {
		t.Fatalf("tactctl account connect without secrets_key: exit %d\n%s", exit, errOut)
	}
	d.stop(syscall.SIGTERM)

	keyFile := filepath.Join(dir, "secrets.key")
	key := make([]byte, 32)
	rand.Read(key)
	os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(key)), 0o600)
	d = startDaemon(t, dir, connectConfig(dir, "127.0.0.1:0", "", "file:"+keyFile, masto, sky, writeRules(t, dir)))
	code, b = d.call("POST", "/api/v1/accounts/brand-mastodon/connect", nil)
	if code != http.StatusConflict || !strings.Contains(string(b), "public_url") {
		t.Fatalf("connect without public_url: %d %s", code, b)
	}
	code, b = d.call("POST", "/api/v1/accounts/hook/connect", nil)
	if code != http.StatusConflict || !strings.Contains(string(b), "connects no accounts") {
		t.Fatalf("connect a webhook account: %d %s", code, b)
	}
	code, b = d.call("POST", "/api/v1/accounts/nosuch/connect", nil)
	if code != http.StatusNotFound {
		t.Fatalf("connect an unknown account: %d %s", code, b)
	}
	if masto.RegisteredApps() != 0 {
		t.Fatal("an app was registered on the server")
	}
}

// row finds the table row whose first column is first and returns its columns (split on
// runs of 2+ spaces, as tabwriter pads them).
func row(t *testing.T, table, first string) []string {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		cols := tableColumns.Split(strings.TrimSpace(line), -1)
		if len(cols) > 0 && cols[0] == first {
			return cols
		}
	}
	t.Fatalf("no row %q in:\n%s", first, table)
	return nil
}

var tableColumns = regexp.MustCompile(`\s{2,}`)

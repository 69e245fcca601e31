package main

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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

// TestSecretsNeverShown runs tactd with secrets given as env: and file: references (a
// Mastodon token, a webhook's HMAC key and its URL with a key in it, an account whose URL
// with a key cannot be reached, a notify URL with a token), exercises it (publishes, a
// refused publish, an unreachable network, an auth error, status, accounts, plugins,
// audit, posts, incidents, a broken rule reload) and then looks for every secret value in
// the daemon's whole log, every API answer and tactctl output it got, and the audit table
// itself. None may appear.
func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secrets := map[string]string{
		"mastodon token":      secret(t, "mastodon-token"),
		"webhook hmac key":    secret(t, "hmac-key"),
		"webhook url key":     secret(t, "hook-url-key"),
		"unreachable url key": secret(t, "dead-url-key"),
		"notify url token":    secret(t, "notify-token"),
	}

	masto := mastodontest.New()
	defer masto.Close()
	masto.Token = secrets["mastodon token"]

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

	// The secrets reach the daemon only through references.
	hmacFile := filepath.Join(dir, "hmac.secret")
	if err := os.WriteFile(hmacFile, []byte(secrets["webhook hmac key"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TACT_SECRETS_TEST_MASTODON_TOKEN": secrets["mastodon token"],
		"TACT_SECRETS_TEST_HOOK_URL":       hook.URL + "/in?key=" + secrets["webhook url key"],
		"TACT_SECRETS_TEST_DEAD_URL":       "http://127.0.0.1:1/in?key=" + secrets["unreachable url key"],
		"TACT_SECRETS_TEST_NOTIFY":         notifySrv.URL + "/notify?token=" + secrets["notify url token"],
	}
	for k, v := range env {
		os.Setenv(k, v) // unique names: no other test reads them
		t.Cleanup(func() { os.Unsetenv(k) })
	}
	rulesGlob := writeRules(t, dir)
	cfg := `
[daemon]
data_dir  = "DATA/data"
listen    = "127.0.0.1:0"
rules     = ["` + rulesGlob + `"]
log_level = "debug"

[[account]]
name    = "masto"
plugin  = "mastodon"
spacing = "1ms"
[account.settings]
server = "` + masto.URL + `"
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

[[notify]]
kind = "webhook"
url  = "env:TACT_SECRETS_TEST_NOTIFY"
`
	d := startDaemon(t, dir, cfg)
	var seen []string // every answer and output the test got
	get := func(path string) []byte {
		b := d.mustCall(t, 200, "GET", path, nil)
		seen = append(seen, path+": "+string(b))
		return b
	}
	call := func(want int, method, path string, body any) []byte {
		b := d.mustCall(t, want, method, path, body)
		seen = append(seen, method+" "+path+": "+string(b))
		return b
	}
	for _, c := range []struct{ name, account string }{{"m", "masto"}, {"h", "hook"}, {"x", "dead"}} {
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
	waitState := func(id int64, states ...string) {
		waitFor(t, 60*time.Second, fmt.Sprintf("post %d to be %v", id, states), func() bool {
			st, _ := d.deliveries(t, id)
			for _, s := range states {
				if st == s {
					return true
				}
			}
			return false
		}, func() string { return tail(d.logs.String(), 6000) })
	}
	okMasto := post("m", "Published on Mastodon")
	okHook := post("h", "Published through the webhook")
	refused := post("h", "REFUSE this one please")
	unreachable := post("x", "The network is down")
	waitState(okMasto, "published")
	waitState(okHook, "published")
	waitState(refused, "failed")
	// The unreachable network: a retry is planned with the error recorded.
	waitFor(t, 60*time.Second, "the unreachable publish to fail once", func() bool {
		_, ds := d.deliveries(t, unreachable)
		return len(ds) == 1 && ds[0].LastError != ""
	}, func() string { return tail(d.logs.String(), 6000) })

	// An auth error: the token is revoked on the server.
	masto.Revoke()
	revoked := post("m", "Posted after the token was revoked")
	waitFor(t, 60*time.Second, "the auth error to be recorded", func() bool {
		st, ds := d.deliveries(t, revoked)
		return st == "held" || st == "failed" || len(ds) == 1 && ds[0].LastError != ""
	}, func() string { return tail(d.logs.String(), 6000) })

	// A rule reload that fails.
	if err := os.WriteFile(filepath.Join(dir, "rules.d", "broken.toml"), []byte("[[rule]]\nid = \"broken\"\naction = \"explode\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, b := d.call("POST", "/api/v1/rules/reload", nil)
	seen = append(seen, fmt.Sprintf("POST /api/v1/rules/reload (%d): %s", code, b))
	if !strings.Contains(string(b), "explode") {
		t.Fatalf("the broken reload is not reported: %d %s", code, b)
	}
	call(201, "POST", "/api/v1/incidents", map[string]any{"rule": "volcano", "note": "declared by the secrets test"})

	for _, path := range []string{"/api/v1/status", "/api/v1/accounts", "/api/v1/plugins", "/api/v1/audit?since=1h", "/api/v1/posts",
		"/api/v1/incidents", "/api/v1/rules", "/api/v1/campaigns", "/api/v1/users", "/api/v1/context", "/metrics"} {
		get(path)
	}
	for _, id := range []int64{okMasto, okHook, refused, unreachable, revoked} {
		get(fmt.Sprintf("/api/v1/posts/%d", id))
	}
	for _, args := range [][]string{{"status"}, {"plugin", "list"}, {"audit", "--since", "1h"}, {"queue"}, {"--json", "queue"}, {"incident", "list"}} {
		out, errOut, _ := d.ctlCode(args...)
		seen = append(seen, "tactctl "+strings.Join(args, " ")+": "+out+errOut)
	}
	mu.Lock()
	if len(notified) == 0 {
		t.Errorf("no notification reached the notify webhook: the failure path was not exercised")
	}
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
	// Stop the daemon so that its log is complete (shutdown lines too).
	d.stop(syscall.SIGTERM)

	places := map[string]string{"the daemon's log": d.logs.String(), "the audit table": audit.String()}
	for i, s := range seen {
		places[fmt.Sprintf("answer %d (%.60s)", i, s)] = s
	}
	leaks := 0
	for what, val := range secrets {
		for where, text := range places {
			if i := strings.Index(text, val); i >= 0 {
				leaks++
				lo, hi := max(0, i-200), min(len(text), i+len(val)+100)
				t.Errorf("the %s appears in %s: …%s…", what, where, text[lo:hi])
			}
		}
	}
	t.Logf("searched %d places (%d bytes of log, %d answers) for %d secrets: %d leaks", len(places), len(d.logs.String()), len(seen), len(secrets), leaks)
}

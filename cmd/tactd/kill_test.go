package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// receiver is a webhook endpoint (the webhook plugin's receiver contract, docs/webhook.md) that
// can hang on a publish, to catch the daemon with a post in `publishing`.
type receiver struct {
	mu       sync.Mutex
	posts    map[string]int // idempotency key -> POSTs received
	lookups  bool           // answer GET ?idempotency_key= lookups
	hang     bool           // hang on POST until the client goes away
	received chan string
}

func newReceiver() *receiver {
	return &receiver{posts: map[string]int{}, lookups: true, received: make(chan string, 16)}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		_, _ = io.ReadAll(r.Body)
		key := r.Header.Get("Idempotency-Key")
		rc.mu.Lock()
		rc.posts[key]++
		hang := rc.hang
		rc.mu.Unlock()
		rc.received <- key
		if hang {
			<-r.Context().Done() // the daemon dies with this request open
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"url":"https://hooks.test/%s"}`, "r-"+key, key)
	case http.MethodGet:
		key := r.URL.Query().Get("idempotency_key")
		rc.mu.Lock()
		n, look := rc.posts[key], rc.lookups
		rc.mu.Unlock()
		if !look {
			http.Error(w, "lookups not supported", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if n == 0 {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"found":false}`)
			return
		}
		fmt.Fprintf(w, `{"found":true,"id":%q,"url":"https://hooks.test/%s"}`, "r-"+key, key)
	}
}

func (rc *receiver) count() (keys, posts int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, n := range rc.posts {
		keys++
		posts += n
	}
	return
}

func webhookConfig(url string) string {
	return `
[daemon]
data_dir  = "DATA/data"
listen    = "127.0.0.1:0"
rules     = ["RULES"]
log_level = "debug"

[[account]]
name    = "hook"
plugin  = "webhook"
spacing = "1ms"
[account.settings]
url    = "` + url + `"
secret = "test-secret"
`
}

// TestKill9WhilePublishing kills tactd with SIGKILL while a post is being published, then
// restarts it on the same SQLite file: the post is neither lost nor published twice.
func TestKill9WhilePublishing(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lookups   bool
		wantState string
	}{
		{"network can tell", true, "published"},
		{"network cannot tell", false, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver()
			rc.hang, rc.lookups = true, tc.lookups
			srv := httptest.NewServer(rc)
			defer srv.Close()
			dir := t.TempDir()
			cfg := webhookConfig(srv.URL)

			d := startDaemon(t, dir, cfg)
			d.ctl(t, "campaign", "create", "c", "--account", "hook", "--topic", "news")
			id := d.createPost(t, "c", "Acknowledged post that must survive kill -9", time.Now().Add(5*time.Second))
			d.ctl(t, "approve", fmt.Sprint(id))
			select {
			case <-rc.received:
			case <-time.After(30 * time.Second):
				t.Fatalf("the webhook never received the publish:\n%s", d.logs)
			}
			if st := d.post(t, id).State; st != "publishing" {
				t.Fatalf("post is %s while its publish is in flight, want publishing", st)
			}
			d.stop(syscall.SIGKILL)

			rc.mu.Lock()
			rc.hang = false
			rc.mu.Unlock()
			d2 := startDaemon(t, dir, cfg)
			eventually(t, 30*time.Second, "recovery of the in-flight post", func() bool {
				st := d2.post(t, id).State
				return st != "publishing" && st != "approved"
			})
			if st := d2.post(t, id).State; st != tc.wantState {
				t.Fatalf("after restart the post is %s, want %s\n%s", st, tc.wantState, d2.logs)
			}
			if keys, posts := rc.count(); keys != 1 || posts != 1 {
				t.Fatalf("network received %d publishes for %d keys, want exactly 1", posts, keys)
			}
			// Nothing acknowledged was lost: the campaign and the post are there.
			out := d2.ctl(t, "--json", "post", "show", fmt.Sprint(id))
			if !strings.Contains(out, "Acknowledged post that must survive kill -9") {
				t.Fatalf("the post is gone after kill -9: %s", out)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// wpProxy stands between tactd and a real WordPress on loopback. With hold set, it
// forwards a post's create, lets WordPress make the post, and keeps the answer from the
// daemon until the daemon goes away: the daemon dies with WordPress holding its post.
type wpProxy struct {
	target  *url.URL
	self    string // the proxy's own address, written into WordPress's Link headers
	mu      sync.Mutex
	hold    bool
	created chan struct{}
}

func (p *wpProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host, out.Host = p.target.Scheme, p.target.Host, p.target.Host
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p.mu.Lock()
	hold := p.hold && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/wp/v2/posts")
	p.mu.Unlock()
	if hold {
		p.created <- struct{}{}
		<-r.Context().Done()
		return
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			// WordPress advertises its REST root under its own address; the daemon must
			// keep going through the proxy.
			w.Header().Add(k, strings.ReplaceAll(v, p.target.Host, p.self))
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// realWordPress reads TACT_TEST_WORDPRESS (what .ci/wordpress.sh prints), or skips.
func realWordPress(t *testing.T) (site *url.URL, user, pass string) {
	raw := os.Getenv("TACT_TEST_WORDPRESS")
	if raw == "" {
		t.Skip("TACT_TEST_WORDPRESS is not set: no real WordPress to test against (.ci/run starts one with .ci/wordpress.sh; sudo .ci/wordpress.sh >/tmp/wp.url && export TACT_TEST_WORDPRESS=$(cat /tmp/wp.url) to run this by hand)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || u.Host == "" {
		t.Fatal("TACT_TEST_WORDPRESS is not http://USER:APP_PASSWORD@HOST:PORT")
	}
	pass, _ = u.User.Password()
	user = u.User.Username()
	u.User = nil
	return u, user, pass
}

// postsWithText are the posts on the real WordPress (any status but trash) whose title is
// text.
func postsWithText(t *testing.T, site *url.URL, user, pass, text string) []int {
	t.Helper()
	q := url.Values{"search": {text}, "status": {"any"}, "context": {"edit"}, "per_page": {"100"}}
	req, _ := http.NewRequest(http.MethodGet, site.String()+"/wp-json/wp/v2/posts?"+q.Encode(), nil)
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var posts []struct {
		ID    int `json:"id"`
		Title struct {
			Raw string `json:"raw"`
		} `json:"title"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&posts); err != nil {
		t.Fatalf("searching WordPress: %d %v", resp.StatusCode, err)
	}
	var ids []int
	for _, p := range posts {
		if p.Title.Raw == text {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// TestRealWordPressPublishAndKill9 publishes through the real tactd and its built-in
// wordpress plugin to a real WordPress, once plainly and once with tactd killed (SIGKILL)
// after WordPress made the post but before the answer came back: after the restart the
// post is published, and exists exactly once on the blog.
func TestRealWordPressPublishAndKill9(t *testing.T) {
	site, user, pass := realWordPress(t)
	proxy := &wpProxy{target: site, created: make(chan struct{}, 1)}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	proxy.self = strings.TrimPrefix(srv.URL, "http://")
	t.Setenv("TACT_E2E_WORDPRESS_PASSWORD", pass)
	cfg := `
[daemon]
data_dir  = "DATA/data"
listen    = "127.0.0.1:0"
rules     = ["RULES"]
log_level = "debug"

[[account]]
name    = "blog"
plugin  = "wordpress"
spacing = "1ms"
[account.settings]
site         = "` + srv.URL + `"
user         = "` + user + `"
app_password = "env:TACT_E2E_WORDPRESS_PASSWORD"
`
	dir := t.TempDir()
	run := fmt.Sprint(time.Now().UnixNano())
	d := startDaemon(t, dir, cfg)
	d.ctl(t, "campaign", "create", "blog", "--account", "blog", "--topic", "news")

	first := "tact e2e " + run + " published once"
	id := d.createPost(t, "blog", first+"\n\nThrough tactd to a real WordPress.", time.Now().Add(3*time.Second))
	d.ctl(t, "approve", fmt.Sprint(id))
	eventually(t, 60*time.Second, "the first post published", func() bool { return d.post(t, id).State == "published" })
	if ids := postsWithText(t, site, user, pass, first); len(ids) != 1 {
		t.Fatalf("WordPress has %d posts titled %q, want 1", len(ids), first)
	}

	second := "tact e2e " + run + " survives SIGKILL"
	proxy.mu.Lock()
	proxy.hold = true
	proxy.mu.Unlock()
	id2 := d.createPost(t, "blog", second+"\n\nThe daemon dies while WordPress holds this post.", time.Now().Add(3*time.Second))
	d.ctl(t, "approve", fmt.Sprint(id2))
	select {
	case <-proxy.created:
	case <-time.After(60 * time.Second):
		t.Fatalf("the create never reached WordPress:\n%s", d.logs)
	}
	if st := d.post(t, id2).State; st != "publishing" {
		t.Fatalf("post is %s while its create is in flight, want publishing", st)
	}
	d.stop(syscall.SIGKILL)
	proxy.mu.Lock()
	proxy.hold = false
	proxy.mu.Unlock()

	d2 := startDaemon(t, dir, cfg)
	eventually(t, 60*time.Second, "recovery of the in-flight post", func() bool {
		st := d2.post(t, id2).State
		return st != "publishing" && st != "approved"
	})
	p := d2.post(t, id2)
	if p.State != "published" {
		t.Fatalf("after restart the post is %s, want published\n%s", p.State, d2.logs)
	}
	ids := postsWithText(t, site, user, pass, second)
	if len(ids) != 1 {
		t.Fatalf("WordPress has %d posts titled %q, want exactly 1", len(ids), second)
	}
	if len(p.Deliveries) != 1 || p.Deliveries[0].RemoteID != fmt.Sprint(ids[0]) {
		t.Fatalf("deliveries %+v, want WordPress post %d", p.Deliveries, ids[0])
	}
}

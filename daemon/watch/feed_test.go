package watch_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/config"
)

// TestFeedSecretsStayOutOfTheStatus: feeds whose URLs carry a password, a key, or are
// secrets as a whole (read from env:), and fail in ways whose errors repeat the URL (a
// refused connection, a dropped one). The status, which viewers read, shows each URL and
// error without any of them.
func TestFeedSecretsStayOutOfTheStatus(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	drop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
	}))
	defer drop.Close()
	const pass, key, path, token = "feed-pass-0123456789", "feed-key-0123456789", "feed-path-0123456789", "feed-token-0123456789"
	inline := feed("inline", "http://reader:"+pass+"@"+dead+"/news/rss.xml?key="+key, 20*time.Millisecond)
	secret := feed("secret", "http://"+dead+"/private/"+path+"/rss.xml?token="+token, 20*time.Millisecond)
	secret.URLSecret = true
	dropping := feed("dropping", drop.URL+"/private/"+path+"?token="+token, 20*time.Millisecond)
	dropping.URLSecret = true
	e := newEnv(t, envOpts{feeds: []config.Feed{inline, secret, dropping}})
	e.run(t)
	for _, c := range []struct{ name, url, err string }{
		{"inline", "http://xxxxx:xxxxx@" + dead + "/news/rss.xml?key=xxxxx", "connection refused"},
		{"secret", "http://" + dead + "/xxxxx?token=xxxxx", "connection refused"},
		{"dropping", drop.URL + "/xxxxx?token=xxxxx", "EOF"},
	} {
		waitFor(t, c.name+" to fail twice", func() bool { return feedStatus(e.w, c.name).Failures >= 2 })
		st := feedStatus(e.w, c.name)
		if st.URL != c.url || !strings.Contains(st.LastError, c.err) {
			t.Errorf("feed %s: url %q, error %q; want url %q and an error saying %q", c.name, st.URL, st.LastError, c.url, c.err)
		}
		b, _ := json.Marshal(st)
		for _, s := range []string{pass, key, path, token} {
			if strings.Contains(string(b), s) {
				t.Errorf("feed %s's status shows %s: %s", c.name, s, b)
			}
		}
	}
}

package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
)

var nextField = regexp.MustCompile(`name="next" value="([^"]*)"`)

// hostileNext are "next" values that a browser would follow to another host (or to a
// script), each of which the login must replace by "/".
var hostileNext = []string{
	"//evil.example",
	`/\evil.example`,
	"/%5Cevil.example",    // decoded by the form: /\evil.example
	"/%5cevil.example",    // lower-case escape
	"/%2F%2Fevil.example", // decoded: ///evil.example
	"/%2f/evil.example",
	"/%252F%252Fevil.example", // encoded twice
	"\t//evil.example",
	"/\t/evil.example", // browsers drop tabs and newlines: //evil.example
	"/\n/evil.example",
	"/%09/evil.example",
	" //evil.example",
	"///evil.example",
	"https://evil.example",
	"http:/evil.example",
	"HTTPS://evil.example/",
	"javascript:alert(1)",
	"JavaScript:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	"evil.example",
	"/ok\\..\\evil",
	"/ok?x=%5C",
	"/\x00/evil.example",
	"/\u00a0/evil.example",
	"",
}

// TestLoginNextStaysOnThisSite sends every hostile "next" through the real login: the form
// shows "/" instead, and after a good token the redirect goes to "/", which a browser
// resolves on this site. Same-site paths are kept.
func TestLoginNextStaysOnThisSite(t *testing.T) {
	f := mustFixture(t)
	type tc struct{ next, want string }
	var cases []tc
	for _, n := range hostileNext {
		cases = append(cases, tc{n, "/"})
	}
	cases = append(cases, tc{"/ok?x=1", "/ok?x=1"}, tc{"/calendar", "/calendar"}, tc{"/posts?state=pending&campaign=2", "/posts?state=pending&campaign=2"})
	base, _ := url.Parse("http://tact.example/login")
	for _, c := range cases {
		t.Run(url.QueryEscape(c.next), func(t *testing.T) {
			cl := f.client()
			// The form the page builds for ?next=… carries the cleaned value.
			_, page := cl.do("GET", "/login?next="+url.QueryEscape(c.next), nil)
			m := nextField.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no next field on the login page:\n%s", page)
			}
			if got := html.UnescapeString(m[1]); got != c.want {
				t.Errorf("login form for next=%q carries %q, want %q", c.next, got, c.want)
			}
			// The login itself, with next as the form sends it.
			tok := cl.csrf("/login")
			resp, body := cl.do("POST", "/login", url.Values{"csrf": {tok}, "token": {f.tokens[queue.RoleViewer]}, "next": {c.next}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %d\n%s", resp.StatusCode, body)
			}
			loc := resp.Header.Get("Location")
			if loc != c.want {
				t.Errorf("login with next=%q redirects to %q, want %q", c.next, loc, c.want)
			}
			ref, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("Location %q: %v", loc, err)
			}
			if to := base.ResolveReference(ref); to.Host != "tact.example" || to.Scheme != "http" {
				t.Errorf("Location %q leads a browser to %s", loc, to)
			}
		})
	}
}

package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/media"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/daemon/watch"
	"github.com/tact-hq/tact/daemon/web"
	"github.com/tact-hq/tact/plugins/sdk"
)

// The fixture is the web UI on a real SQLite store in t.TempDir(), with the real rule set
// manager and watcher from daemon/watch on the rule files in testdata/rules. Accounts and
// the Validator are small in-test implementations (the plugin host's are not wired here):
// they count lengths with web.Length against each account's limit, as a plugin would.

var testAccounts = []api.AccountInfo{
	{Name: "brand-mastodon", Plugin: "mastodon", MaxLength: 500, Counting: string(sdk.CountMastodon), Healthy: true},
	{Name: "brand-bluesky", Plugin: "bluesky", MaxLength: 300, Counting: string(sdk.CountGraphemes), Healthy: true},
	{Name: "brand-x", Plugin: "x", MaxLength: 280, Counting: string(sdk.CountX), Healthy: true}, // in no seeded campaign
}

type staticAccounts []api.AccountInfo

func (a staticAccounts) Accounts(context.Context) ([]api.AccountInfo, error) { return a, nil }

// lengthValidator refuses texts longer than an account's limit, by the account's counting.
type lengthValidator struct{ accounts []api.AccountInfo }

func (v lengthValidator) Validate(_ context.Context, accounts []string, p sdk.Post) ([]string, error) {
	var out []string
	for _, name := range accounts {
		for _, a := range v.accounts {
			if a.Name != name {
				continue
			}
			if n := web.Length(p.Text, a.Counting); a.MaxLength > 0 && n > a.MaxLength {
				out = append(out, fmt.Sprintf("%s: text: %d characters, the limit is %d", name, n, a.MaxLength))
			}
			for i, m := range p.Media {
				if a.Plugin == "bluesky" && m.Size > 1_000_000 {
					out = append(out, fmt.Sprintf("%s: media[%d]: %d bytes, Bluesky takes at most 1000000", name, i, m.Size))
				}
			}
		}
	}
	return out, nil
}

type countKicks struct{ n atomic.Int64 }

func (k *countKicks) Kick() { k.n.Add(1) }

type fixture struct {
	t       testing.TB
	ctx     context.Context
	store   *sqlite.DB
	rules   *watch.Rules
	watcher *watch.Watcher
	kicks   *countKicks
	offset  *atomic.Int64 // added to the web UI's clock
	srv     *httptest.Server
	handler *web.Handler
	tokens  map[queue.Role]string
	rulesIn string // the rule files' directory
	media   *media.Store
	mediaIn string // the media store's directory

	spring, travel *queue.Campaign
	paris          *time.Location
	posts          map[string]*queue.Post // by a short name
}

func mustFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{t: t, ctx: ctx, store: store, kicks: &countKicks{}, offset: &atomic.Int64{}, tokens: map[queue.Role]string{}, posts: map[string]*queue.Post{}}
	f.paris, _ = time.LoadLocation("Europe/Paris")

	f.rulesIn = t.TempDir()
	for _, name := range []string{"air.toml", "quake.toml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "rules", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(f.rulesIn, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	quiet := slog.New(slog.DiscardHandler)
	f.rules, err = watch.NewRules(ctx, []string{filepath.Join(f.rulesIn, "*.toml")}, watch.RulesOptions{Store: store, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	f.watcher, err = watch.New(watch.Options{Store: store, Rules: f.rules, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}

	for _, role := range []queue.Role{queue.RoleViewer, queue.RoleMarketer, queue.RoleAdmin} {
		tok := queue.NewToken()
		u := &queue.User{Name: map[queue.Role]string{queue.RoleViewer: "vera", queue.RoleMarketer: "mona", queue.RoleAdmin: "adam"}[role], Role: role}
		if err := store.CreateUser(ctx, queue.System("test"), u, queue.HashToken(tok)); err != nil {
			t.Fatal(err)
		}
		f.tokens[role] = tok
	}

	f.spring = f.campaign("spring-sale", []string{"brand-mastodon", "brand-bluesky"}, []string{"promotion"})
	f.travel = f.campaign("lisbon-flights", []string{"brand-mastodon"}, []string{"travel"})

	tomorrow := time.Now().In(f.paris).AddDate(0, 0, 1)
	at := func(days, hour int) time.Time {
		return time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day()+days, hour, 0, 0, 0, f.paris)
	}
	f.post("sale", f.spring, at(0, 9), "Spring sale: 20% off everything this weekend https://shop.example.com/spring?utm_source=mastodon&utm_campaign=spring-sale-2026")
	f.post("lastday", f.spring, at(0, 12), "Last day of the spring sale! 🌷")
	f.post("colours", f.spring, at(0, 15), "New colours are in: sage, rust and sand.")
	f.post("shipping", f.spring, at(1, 10), "Free shipping on orders over €50, this week only.")
	f.post("shake", f.spring, at(1, 14), "Shake up your wardrobe with our new linen range.")
	f.post("long", f.spring, at(2, 9), strings.Repeat("A long story about linen, told in far too many words. ", 6))
	f.post("lisbon", f.travel, at(0, 10), "Fly to Lisbon this summer from €49 ✈️")
	f.apply("lisbon", queue.EventApprove)

	// The news that pauses the travel campaign and flags the "shake" post, through the
	// real watcher and rules.
	for _, item := range []*queue.ContextItem{
		{Source: "wire", Title: "Airliner with 242 aboard crashes after take-off", URL: "https://news.example.org/airliner-crash", Language: "en", PublishedAt: time.Now().Add(-time.Hour)},
		{Source: "wire", Title: "Earthquake of magnitude 6 hits the coast", URL: "https://news.example.org/quake", Language: "en", PublishedAt: time.Now().Add(-2 * time.Hour)},
	} {
		if _, _, err := f.watcher.Push(ctx, item); err != nil {
			t.Fatal(err)
		}
	}
	f.refresh()

	f.mediaIn = filepath.Join(t.TempDir(), "media")
	if f.media, err = media.Open(f.mediaIn, 8<<20); err != nil {
		t.Fatal(err)
	}
	f.handler = web.New(web.Options{
		Store:           store,
		Logger:          quiet,
		Validator:       lengthValidator{testAccounts},
		Accounts:        staticAccounts(testAccounts),
		Rules:           f.rules,
		Watch:           f.watcher,
		Warnings:        f.watcher,
		Kicker:          f.kicks,
		Media:           f.media,
		DefaultTimeZone: "Europe/Paris",
		SessionKey:      []byte("0123456789abcdef0123456789abcdef"),
		Now:             func() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) },
	})
	f.srv = httptest.NewServer(f.handler)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) campaign(name string, accounts, topics []string) *queue.Campaign {
	f.t.Helper()
	c := &queue.Campaign{Name: name, Accounts: accounts, Topics: topics, TimeZone: "Europe/Paris", Approval: queue.ApprovalRequired}
	if err := f.store.CreateCampaign(f.ctx, queue.System("test"), c); err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) post(key string, c *queue.Campaign, due time.Time, text string) {
	f.t.Helper()
	problems, _ := lengthValidator{testAccounts}.Validate(f.ctx, c.Accounts, sdk.Post{Text: text})
	p := &queue.Post{CampaignID: c.ID, Text: text, Accounts: c.Accounts, DueAt: due.UTC(), State: queue.PostPending, Problems: problems}
	if err := f.store.CreatePost(f.ctx, queue.System("test"), p); err != nil {
		f.t.Fatal(err)
	}
	f.posts[key] = p
}

func (f *fixture) apply(key string, ev queue.Event) {
	f.t.Helper()
	if _, err := f.store.Apply(f.ctx, queue.System("test"), f.posts[key].ID, 0, ev, ""); err != nil {
		f.t.Fatal(err)
	}
}

// refresh re-reads the seeded posts and campaigns from the store.
func (f *fixture) refresh() {
	f.t.Helper()
	for k, p := range f.posts {
		f.posts[k] = f.get(p.ID)
	}
	var err error
	if f.spring, err = f.store.Campaign(f.ctx, f.spring.ID); err != nil {
		f.t.Fatal(err)
	}
	if f.travel, err = f.store.Campaign(f.ctx, f.travel.ID); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) get(id int64) *queue.Post {
	f.t.Helper()
	p, err := f.store.Post(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) countPosts() int {
	f.t.Helper()
	n, err := f.store.CountPosts(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	total := 0
	for _, k := range n {
		total += k
	}
	return total
}

// client is a plain HTTP client with a cookie jar, for checks below the browser.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func (f *fixture) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: f.t, base: f.srv.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// csrf returns the CSRF token found in the forms of the page at path.
func (c *client) csrf(path string) string {
	c.t.Helper()
	_, body := c.do("GET", path, nil)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no csrf field on %s:\n%s", path, body)
	}
	return m[1]
}

// login logs in with token and fails the test unless it is accepted.
func (c *client) login(token string) {
	c.t.Helper()
	tok := c.csrf("/login")
	resp, body := c.do("POST", "/login", url.Values{"csrf": {tok}, "token": {token}, "next": {"/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		c.t.Fatalf("login: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

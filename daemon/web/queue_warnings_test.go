package web_test

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/daemon/watch"
	"github.com/tact-hq/tact/daemon/web"
)

// countingStore is the real SQLite store, counting its reads of incidents.
type countingStore struct {
	*sqlite.DB
	incidentReads atomic.Int64
}

func (s *countingStore) Incidents(ctx context.Context, f queue.IncidentFilter) ([]*queue.Incident, error) {
	s.incidentReads.Add(1)
	return s.DB.Incidents(ctx, f)
}

// While incidents are open, the queue page reads them once, not once per card, and each
// card shows the warnings the watcher gives for its post alone.
func TestQueuePageReadsOpenIncidentsOncePerPage(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cs := &countingStore{DB: db}
	quiet := slog.New(slog.DiscardHandler)
	rs, err := watch.NewRules(ctx, []string{filepath.Join("testdata", "rules", "*.toml")}, watch.RulesOptions{Store: cs, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w, err := watch.New(watch.Options{Store: cs, Rules: rs, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	tok := queue.NewToken()
	if err := db.CreateUser(ctx, queue.System("test"), &queue.User{Name: "vera", Role: queue.RoleViewer}, queue.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	camps := map[string]*queue.Campaign{}
	for name, topic := range map[string]string{"flights": "travel", "linen": "promotion"} {
		c := &queue.Campaign{Name: name, Accounts: []string{"brand-mastodon"}, Topics: []string{topic}, TimeZone: "Europe/Paris", Approval: queue.ApprovalRequired}
		if err := db.CreateCampaign(ctx, queue.System("test"), c); err != nil {
			t.Fatal(err)
		}
		camps[name] = c
	}
	due := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute)
	var posts []*queue.Post
	for i, text := range []string{"Fly to Lisbon from €49", "Shake up your wardrobe", "New colours: sage and rust",
		"Fly to Porto this spring", "Shake off the winter", "Linen shirts are back", "Fly to Seville for less"} {
		c := camps["linen"]
		if strings.HasPrefix(text, "Fly") {
			c = camps["flights"]
		}
		p := &queue.Post{CampaignID: c.ID, Text: text, Accounts: c.Accounts, DueAt: due.Add(time.Duration(i) * time.Hour), State: queue.PostPending}
		if err := db.CreatePost(ctx, queue.System("test"), p); err != nil {
			t.Fatal(err)
		}
		posts = append(posts, p)
	}
	// The news that pauses the travel campaign and flags the "shake" posts.
	for _, item := range []*queue.ContextItem{
		{Source: "wire", Title: "Airliner with 242 aboard crashes after take-off", URL: "https://news.example.org/airliner-crash", Language: "en", PublishedAt: time.Now().Add(-time.Hour)},
		{Source: "wire", Title: "Earthquake of magnitude 6 hits the coast", URL: "https://news.example.org/quake", Language: "en", PublishedAt: time.Now().Add(-2 * time.Hour)},
	} {
		if _, _, err := w.Push(ctx, item); err != nil {
			t.Fatal(err)
		}
	}

	srv := httptest.NewServer(web.New(web.Options{
		Store: cs, Logger: quiet, Validator: lengthValidator{testAccounts}, Accounts: staticAccounts(testAccounts),
		Rules: rs, Watch: w, Warnings: w, DefaultTimeZone: "Europe/Paris",
		SessionKey: []byte("0123456789abcdef0123456789abcdef"),
	}))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: srv.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	c.login(tok)

	cs.incidentReads.Store(0)
	resp, page := c.do("GET", "/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("queue page: %d\n%s", resp.StatusCode, page)
	}
	if n := cs.incidentReads.Load(); n != 1 {
		t.Errorf("the queue page of %d posts read the incidents %d times, want once", len(posts), n)
	}

	// Each warning is shown on as many cards as there are posts it concerns.
	cards := map[string]int{}
	for _, p := range posts {
		stored, err := db.Post(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		camp, err := db.Campaign(ctx, p.CampaignID)
		if err != nil {
			t.Fatal(err)
		}
		for _, warning := range w.PostWarnings(ctx, camp, stored) {
			cards[template.HTMLEscapeString(warning)]++
		}
	}
	incident := 0
	for warning, n := range cards {
		if got := strings.Count(page, warning); got != n {
			t.Errorf("%q is shown %d times, want %d (one per post it concerns)", warning, got, n)
		}
		if strings.HasPrefix(warning, "Incident #") {
			incident += n
		}
	}
	if incident != 5 {
		t.Errorf("%d incident warnings on the page, want 5 (3 flights posts, 2 shake posts): %v", incident, cards)
	}
}

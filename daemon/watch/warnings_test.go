package watch_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/daemon/watch"
)

// countingStore is the real SQLite store, counting its reads of incidents.
type countingStore struct {
	*sqlite.DB
	incidentReads atomic.Int64
	gate          func() // when set, each read of incidents waits for it after counting
}

func (s *countingStore) Incidents(ctx context.Context, f queue.IncidentFilter) ([]*queue.Incident, error) {
	s.incidentReads.Add(1)
	if s.gate != nil {
		s.gate()
	}
	return s.DB.Incidents(ctx, f)
}

// The queue's pages keep the open incidents they read while nothing changes, and every
// change shows on the next page: an incident opened, news added to it, the rules reloaded,
// the incident resolved. A page reads the incidents at most once, and not at all while the
// incidents and the rules are unchanged.
func TestPageWarningsFollowEveryChange(t *testing.T) {
	cs := &countingStore{DB: openStore(t)}
	dir, glob := rulesDir(t, "air.toml")
	rs, w, travel := pageWatcher(t, cs, glob)
	fly := &queue.Post{CampaignID: travel.ID, Text: "Fly to Lisbon from €49", DueAt: time.Now().Add(time.Hour)}
	tulips := &queue.Post{CampaignID: travel.ID, Text: "Tulip fields near Amsterdam", DueAt: time.Now().Add(2 * time.Hour)}
	for _, p := range []*queue.Post{fly, tulips} {
		if err := cs.CreatePost(ctxBG, queue.System("test"), p); err != nil {
			t.Fatal(err)
		}
	}
	page := func(wantReads int64) (open int, flyWarnings, tulipWarnings []string) {
		t.Helper()
		cs.incidentReads.Store(0)
		open, warn, err := w.PageWarnings(ctxBG)
		if err != nil {
			t.Fatal(err)
		}
		a, b := warn(travel, storedPost(t, cs, fly.ID)), warn(travel, storedPost(t, cs, tulips.ID))
		if n := cs.incidentReads.Load(); n != wantReads {
			t.Errorf("the page read the incidents %d times, want %d", n, wantReads)
		}
		return open, a, b
	}
	if open, f, tu := page(1); open != 0 || f != nil || tu != nil {
		t.Fatalf("no incident: %d open, warnings %q %q", open, f, tu)
	}
	if open, _, _ := page(0); open != 0 {
		t.Fatalf("no incident, nothing changed: %d open", open)
	}

	if _, incs, err := w.Push(ctxBG, &queue.ContextItem{Source: "wire", Title: "Airliner crashes near Lyon", PublishedAt: time.Now()}); err != nil || len(incs) != 1 {
		t.Fatal(incs, err)
	}
	open, f, tu := page(1)
	if open != 1 || len(f) != 1 || !strings.HasPrefix(f[0], "Incident #1, rule air-disaster (pause): post says \"fly\" — “Airliner crashes near Lyon” (wire); closes ") || tu != nil {
		t.Fatalf("incident open: %d open, warnings %q %q", open, f, tu)
	}
	// The answer is each caller's own: changing it changes no later answer.
	f[0] = "scribbled"
	if _, again, _ := page(0); len(again) != 1 || again[0] == "scribbled" {
		t.Fatalf("a caller's change to its answer reached the next page: %q", again)
	}

	if _, _, err := w.Push(ctxBG, &queue.ContextItem{Source: "agency", Title: "Airliner crash: rescuers at the scene", PublishedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, f, _ := page(1); len(f) != 1 || !strings.Contains(f[0], "“Airliner crash: rescuers at the scene” (agency)") {
		t.Fatalf("news added to the incident: %q", f)
	}

	// A reload that takes "fly" out of the rule's post words: the post is no longer covered,
	// although the database holds the same incident.
	b, err := os.ReadFile(filepath.Join(dir, "air.toml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "air.toml"), []byte(strings.Replace(string(b), `any    = ["flight", "fly", "getaway"]`, `any    = ["getaway"]`, 1)))
	if err := rs.Reload(ctxBG); err != nil {
		t.Fatal(err)
	}
	if open, f, _ := page(1); open != 1 || f != nil {
		t.Fatalf("after a reload without \"fly\": %d open, warnings %q", open, f)
	}

	ins, err := cs.DB.Incidents(ctxBG, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}})
	if err != nil || len(ins) != 1 {
		t.Fatal(ins, err)
	}
	if _, err := w.Resolve(ctxBG, queue.Actor{Kind: queue.ActorUser, Name: "ann"}, ins[0].ID, "all clear"); err != nil {
		t.Fatal(err)
	}
	if open, f, tu := page(1); open != 0 || f != nil || tu != nil {
		t.Fatalf("resolved: %d open, warnings %q %q", open, f, tu)
	}
}

// The open incidents are read again when they change, by this process or another one, and
// not when anything else is committed (after each approval a dozen open listings are built
// again at once); the pages that ask at the same moment share one read.
func TestPageWarningsReadIncidentsOnlyWhenTheyChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tact.db")
	db, err := sqlite.Open(ctxBG, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cs := &countingStore{DB: db}
	_, glob := rulesDir(t, "air.toml")
	_, w, travel := pageWatcher(t, cs, glob)
	if _, incs, err := w.Push(ctxBG, &queue.ContextItem{Source: "wire", Title: "Airliner crashes near Lyon", PublishedAt: time.Now()}); err != nil || len(incs) != 1 {
		t.Fatal(incs, err)
	}
	reads := func(what string, want int64) {
		t.Helper()
		cs.incidentReads.Store(0)
		if open, _, err := w.PageWarnings(ctxBG); err != nil || open != 1 {
			t.Fatalf("%s: %d open, %v", what, open, err)
		}
		if n := cs.incidentReads.Load(); n != want {
			t.Errorf("%s: the page read the incidents %d times, want %d", what, n, want)
		}
	}
	reads("first page", 1)
	for i := range 3 {
		p := &queue.Post{CampaignID: travel.ID, Text: "Tulip fields near Amsterdam", DueAt: time.Now().Add(time.Duration(i+1) * time.Hour)}
		if err := cs.CreatePost(ctxBG, queue.System("test"), p); err != nil {
			t.Fatal(err)
		}
	}
	reads("after posts were created", 0)

	// An admin's sqlite3 shell changes the incident: the next page sees it.
	shell, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer shell.Close()
	if _, err := shell.Exec(`UPDATE incidents SET note = 'checked by hand'`); err != nil {
		t.Fatal(err)
	}
	reads("after another process changed the incident", 1)
	reads("unchanged since", 0)

	// Twelve pages at once after news joined the incident: one read for all of them.
	if _, _, err := w.Push(ctxBG, &queue.ContextItem{Source: "agency", Title: "Airliner crash: rescuers at the scene", PublishedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	const pages = 12
	var started sync.WaitGroup
	started.Add(pages)
	cs.gate = started.Wait // the read waits until every page has asked
	cs.incidentReads.Store(0)
	var done sync.WaitGroup
	for range pages {
		done.Go(func() {
			started.Done()
			if _, warn, err := w.PageWarnings(ctxBG); err != nil || warn == nil {
				t.Errorf("page: %v", err)
			}
		})
	}
	done.Wait()
	if n := cs.incidentReads.Load(); n != 1 {
		t.Errorf("%d pages asking at once read the incidents %d times, want 1", pages, n)
	}
}

// pageWatcher starts the rules of glob and a watcher over cs, and stores a travel campaign.
func pageWatcher(t *testing.T, cs *countingStore, glob string) (*watch.Rules, *watch.Watcher, *queue.Campaign) {
	t.Helper()
	rs, err := watch.NewRules(ctxBG, []string{glob}, watch.RulesOptions{Store: cs, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := watch.New(watch.Options{Store: cs, Rules: rs, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	travel := &queue.Campaign{Name: "trips", Accounts: []string{"brand"}, Topics: []string{"city-breaks"}}
	if err := cs.CreateCampaign(ctxBG, queue.System("test"), travel); err != nil {
		t.Fatal(err)
	}
	return rs, w, travel
}

// storedPost reads a post as stored now.
func storedPost(t *testing.T, st *countingStore, id int64) *queue.Post {
	t.Helper()
	p, err := st.Post(ctxBG, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

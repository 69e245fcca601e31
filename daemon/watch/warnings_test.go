package watch_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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
}

func (s *countingStore) Incidents(ctx context.Context, f queue.IncidentFilter) ([]*queue.Incident, error) {
	s.incidentReads.Add(1)
	return s.DB.Incidents(ctx, f)
}

// The queue's pages keep the open incidents they read while nothing changes, and every
// change shows on the next page: an incident opened, news added to it, the rules reloaded,
// the incident resolved. A page reads the incidents at most once, and not at all while the
// database and the rules are unchanged.
func TestPageWarningsFollowEveryChange(t *testing.T) {
	cs := &countingStore{DB: openStore(t)}
	dir, glob := rulesDir(t, "air.toml")
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

// storedPost reads a post as stored now.
func storedPost(t *testing.T, st *countingStore, id int64) *queue.Post {
	t.Helper()
	p, err := st.Post(ctxBG, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// A page of the queue spans many campaigns: each post shows its own campaign's time zone,
// and safety warnings appear exactly on the posts an open incident covers.
func TestListPostsAcrossCampaignsZonesAndWarnings(t *testing.T) {
	e := newEnv(t, withWatcher(t))
	e.campaign("tokyo-food", map[string]any{"timezone": "Asia/Tokyo", "topics": []string{"cooking"}})
	e.campaign("paris-trips", map[string]any{"timezone": "Europe/Paris"})
	e.campaign("plain", map[string]any{"topics": []string{"gardening"}})
	food := e.post("tokyo-food", "Ramen week: two bowls for one", "+2h")
	trip := e.post("paris-trips", "Fly to Lisbon this summer from €49", "+3h")
	plain := e.post("plain", "Tulip bulbs are back", "+4h")

	list := func() map[int64]map[string]any {
		t.Helper()
		r := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts?state=pending", nil))
		out := map[int64]map[string]any{}
		for _, it := range r.body["items"].([]any) {
			p := it.(map[string]any)
			out[int64(p["id"].(float64))] = p
		}
		return out
	}
	zones := map[int64]string{food: "Asia/Tokyo", trip: "Europe/Paris", plain: "UTC"}
	before := list()
	for id, zone := range zones {
		p := before[id]
		if p == nil || p["timezone"] != zone {
			t.Fatalf("post %d: timezone %v, want %s (page: %v)", id, p["timezone"], zone, before)
		}
		if p["warnings"] != nil {
			t.Errorf("post %d has warnings with no incident open: %v", id, p["warnings"])
		}
	}

	e.must(201, e.do(queue.RoleAdmin, "POST", "/api/v1/incidents", map[string]any{"rule": "air-disaster", "note": "jet down"}))
	after := list()
	w, _ := after[trip]["warnings"].([]any)
	if len(w) == 0 || !strings.Contains(w[0].(string), "air-disaster") {
		t.Errorf("the flight promotion shows no air-disaster warning: %v", after[trip])
	}
	for _, id := range []int64{food, plain} {
		if after[id]["warnings"] != nil {
			t.Errorf("post %d is not about travel but shows warnings: %v", id, after[id]["warnings"])
		}
	}
	for id, zone := range zones {
		if after[id]["timezone"] != zone {
			t.Errorf("post %d: timezone %v after the incident, want %s", id, after[id]["timezone"], zone)
		}
	}
}

// The page reads each campaign's zone as stored now: a campaign moved to another zone
// shows it on the next page, and an unknown campaign zone never reaches the answer.
func TestListPostsShowsACampaignsNewZone(t *testing.T) {
	e := newEnv(t)
	e.campaign("mover", map[string]any{"timezone": "Asia/Tokyo"})
	e.campaign("stays", map[string]any{"timezone": "America/New_York"})
	moved := e.post("mover", "Cherry blossom tours", "+2h")
	stayed := e.post("stays", "Bagels on the house", "+3h")
	zones := func() map[int64]any {
		t.Helper()
		r := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts?state=pending", nil))
		out := map[int64]any{}
		for _, it := range r.body["items"].([]any) {
			p := it.(map[string]any)
			out[int64(p["id"].(float64))] = p["timezone"]
		}
		return out
	}
	if z := zones(); z[moved] != "Asia/Tokyo" || z[stayed] != "America/New_York" {
		t.Fatalf("zones before the move: %v", z)
	}
	c := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns/mover", nil))
	e.must(200, e.do(queue.RoleMarketer, "PATCH", "/api/v1/campaigns/mover", map[string]any{"timezone": "Europe/Paris", "version": c.body["version"]}))
	if z := zones(); z[moved] != "Europe/Paris" || z[stayed] != "America/New_York" {
		t.Fatalf("zones after moving the campaign to Paris: %v", z)
	}
	if one := e.must(200, e.do(queue.RoleViewer, "GET", fmt.Sprintf("/api/v1/posts/%d", moved), nil)); one.str("timezone") != "Europe/Paris" {
		t.Fatalf("one post after the move: timezone %q", one.str("timezone"))
	}
}

// With no incident open, only flagged posts carry warnings: the page reads whole campaigns
// for them and time zones alone for the others, and both show the same zones as before.
func TestListPostsFlagsWithoutOpenIncident(t *testing.T) {
	e := newEnv(t, withWatcher(t))
	e.campaign("tokyo-trips", map[string]any{"timezone": "Asia/Tokyo"})
	e.campaign("paris-food", map[string]any{"timezone": "Europe/Paris", "topics": []string{"cooking"}})
	flagged := e.post("tokyo-trips", "Fly to Osaka this spring", "+2h")
	plain := e.post("paris-food", "Croissant masterclass", "+3h")
	r := e.must(201, e.do(queue.RoleAdmin, "POST", "/api/v1/incidents", map[string]any{"rule": "air-disaster", "note": "jet down"}))
	inc := int64(r.body["id"].(float64))
	if _, err := e.store.ApplyIncident(context.Background(), inc, queue.IncidentAction{FlagPosts: []int64{flagged}}); err != nil {
		t.Fatal(err)
	}
	e.must(200, e.do(queue.RoleAdmin, "POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", inc), map[string]any{"note": "all clear"}))

	page := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts?state=pending", nil))
	got := map[int64]map[string]any{}
	for _, it := range page.body["items"].([]any) {
		p := it.(map[string]any)
		got[int64(p["id"].(float64))] = p
	}
	w, _ := got[flagged]["warnings"].([]any)
	if len(w) != 1 || !strings.Contains(w[0].(string), "Flagged by rule air-disaster") {
		t.Errorf("flagged post after the incident closed: warnings %v, want the air-disaster flag", got[flagged]["warnings"])
	}
	if got[plain]["warnings"] != nil {
		t.Errorf("unflagged post shows warnings with no incident open: %v", got[plain]["warnings"])
	}
	if got[flagged]["timezone"] != "Asia/Tokyo" || got[plain]["timezone"] != "Europe/Paris" {
		t.Errorf("zones: flagged %v, plain %v", got[flagged]["timezone"], got[plain]["timezone"])
	}
	// The page shows each post exactly as GET /posts/{id} does.
	for id, p := range got {
		one := e.must(200, e.do(queue.RoleViewer, "GET", fmt.Sprintf("/api/v1/posts/%d", id), nil))
		if fmt.Sprint(one.body) != fmt.Sprint(p) {
			t.Errorf("post %d differs between the page and GET:\n%v\n%v", id, p, one.body)
		}
	}
}

// countingStore is the real SQLite store, counting its reads of incidents.
type countingStore struct {
	*sqlite.DB
	incidentReads atomic.Int64
}

func (s *countingStore) Incidents(ctx context.Context, f queue.IncidentFilter) ([]*queue.Incident, error) {
	s.incidentReads.Add(1)
	return s.DB.Incidents(ctx, f)
}

// withCountingStore puts cs around the env's store. Give it before withWatcher, so that
// the watcher reads through it too.
func withCountingStore(cs *countingStore) func(*api.Options, *clock.Fake) {
	return func(o *api.Options, _ *clock.Fake) {
		cs.DB = o.Store.(*sqlite.DB)
		o.Store = cs
	}
}

// While incidents are open, a page of the queue reads them once, however many posts it
// shows (it read them once per post, and under an incident 200 listings a second timed
// out), and shows each post's warnings exactly as GET /posts/{id} does.
func TestListPostsReadsOpenIncidentsOncePerPage(t *testing.T) {
	cs := &countingStore{}
	e := newEnv(t, withCountingStore(cs), withWatcher(t))
	e.campaign("trips", nil)
	e.campaign("food", map[string]any{"topics": []string{"cooking"}, "timezone": "Asia/Tokyo"})
	e.campaign("fests", map[string]any{"topics": []string{"festival"}})
	var food []int64
	for i := range 8 {
		e.post("trips", fmt.Sprintf("Fly to Lisbon from €%d", 40+i), fmt.Sprintf("+%dh", 1+i))
		food = append(food, e.post("food", fmt.Sprintf("Ramen week, day %d", 1+i), fmt.Sprintf("+%dh%dm", 1+i, 10)))
		e.post("fests", fmt.Sprintf("Summer festival line-up, part %d", 1+i), fmt.Sprintf("+%dh%dm", 1+i, 20))
	}
	var quake int64
	for _, rule := range []string{"air-disaster", "crowd-disaster", "earthquake"} {
		r := e.must(201, e.do(queue.RoleAdmin, "POST", "/api/v1/incidents", map[string]any{"rule": rule, "note": rule + " in the news"}))
		quake = int64(r.body["id"].(float64))
	}
	if _, err := e.store.ApplyIncident(context.Background(), quake, queue.IncidentAction{FlagPosts: food[:2]}); err != nil {
		t.Fatal(err)
	}

	// The first page after a change reads the open incidents once; the next ones, with
	// nothing changed, use what it read.
	page := func(query string, wantReads int64) (items []json.RawMessage, next string) {
		t.Helper()
		cs.incidentReads.Store(0)
		r := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/posts?"+query, nil))
		if n := cs.incidentReads.Load(); n != wantReads {
			t.Errorf("GET /api/v1/posts?%s read the incidents %d times, want %d", query, n, wantReads)
		}
		var list struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		if err := json.Unmarshal(r.raw, &list); err != nil {
			t.Fatal(err)
		}
		return list.Items, list.Next
	}
	// Each item is byte for byte what GET /posts/{id} answers (both indented: compared
	// compacted), and the warnings are those the queue showed before the page read the
	// incidents once.
	want := map[string][]string{
		"Fly to Lisbon from €40": {`Incident #1, rule air-disaster (pause): topic "travel"; post says "fly" — “air-disaster in the news” (declared by admin-user); closes 2026-05-04T08:00:00Z`},
		"Ramen week, day 1":      {"Flagged by rule earthquake: No shaking imagery, nor promotion of the places hit, during a deadly earthquake or tsunami."},
		"Summer festival line-up, part 1": {
			`Incident #2, rule crowd-disaster (pause): topic "festival"; post says "festival" — “crowd-disaster in the news” (declared by admin-user); closes 2026-05-05T08:00:00Z`},
		"Ramen week, day 3": nil,
	}
	sameAsGET := func(items []json.RawMessage) {
		t.Helper()
		for _, it := range items {
			var p struct {
				ID       int64    `json:"id"`
				Text     string   `json:"text"`
				Warnings []string `json:"warnings"`
			}
			if err := json.Unmarshal(it, &p); err != nil {
				t.Fatal(err)
			}
			one := e.must(200, e.do(queue.RoleViewer, "GET", fmt.Sprintf("/api/v1/posts/%d", p.ID), nil))
			var a, b bytes.Buffer
			if err := json.Compact(&a, it); err != nil {
				t.Fatal(err)
			}
			if err := json.Compact(&b, one.raw); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("post %d differs between the page and GET:\n%s\n%s", p.ID, a.Bytes(), b.Bytes())
			}
			if w, ok := want[p.Text]; ok && fmt.Sprintf("%q", w) != fmt.Sprintf("%q", p.Warnings) {
				t.Errorf("post %q: warnings\n%q\nwant\n%q", p.Text, p.Warnings, w)
			}
		}
	}

	all, _ := page("state=pending", 1)
	first, next := page("state=pending&limit=10", 0)
	second, _ := page("state=pending&limit=10&cursor="+next, 0)
	if len(all) != 24 || len(first) != 10 || len(second) != 10 {
		t.Fatalf("pages of %d, %d and %d posts, want 24, 10 and 10", len(all), len(first), len(second))
	}
	sameAsGET(all)
	sameAsGET(first)
	sameAsGET(second)
	// A change elsewhere (here a campaign's time zone) shows on the next page, which does
	// not read the incidents again: they did not change.
	c := e.must(200, e.do(queue.RoleViewer, "GET", "/api/v1/campaigns/food", nil))
	e.must(200, e.do(queue.RoleMarketer, "PATCH", "/api/v1/campaigns/food", map[string]any{"timezone": "Asia/Seoul", "version": c.body["version"]}))
	byCampaign, _ := page("state=pending&campaign=food", 0)
	if len(byCampaign) != 8 {
		t.Fatalf("%d posts of campaign food, want 8", len(byCampaign))
	}
	for _, it := range byCampaign {
		if !bytes.Contains(it, []byte(`"timezone": "Asia/Seoul"`)) {
			t.Fatalf("a post of campaign food after its zone changed: %s", it)
		}
	}
	sameAsGET(byCampaign)
	// A change to the incidents (one resolved) makes the next page read them again, once.
	e.must(200, e.do(queue.RoleAdmin, "POST", fmt.Sprintf("/api/v1/incidents/%d/resolve", quake), map[string]any{"note": "over"}))
	delete(want, "Ramen week, day 1") // its flag stays, with the rule's description
	again, _ := page("state=pending", 1)
	sameAsGET(again)
}

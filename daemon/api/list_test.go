package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
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

package sqlite_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

func TestLeadBeyondMaxLeadIsRefused(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, sqlite.WithLimits(queue.Limits{MaxLead: 7 * 24 * time.Hour}))
	c := &queue.Campaign{Name: "weekly", Accounts: []string{"a"}, Schedule: "0 9 * * MON", Pool: []string{"x"},
		Lead: queue.Duration(100000 * time.Hour)}
	err := db.CreateCampaign(ctx, ann, c)
	if queue.ErrorKind(err) != queue.Invalid || queue.ErrorField(err) != "lead" || !strings.Contains(err.Error(), "168h") ||
		!strings.Contains(err.Error(), "max_lead") {
		t.Fatalf("create with lead 100000h: %v (field %q), want invalid lead naming the limit 168h and max_lead", err, queue.ErrorField(err))
	}
	c.Lead = queue.Duration(7 * 24 * time.Hour)
	must(t, db.CreateCampaign(ctx, ann, c))
	c.Lead = queue.Duration(8 * 24 * time.Hour)
	if err := db.UpdateCampaign(ctx, ann, c); queue.ErrorField(err) != "lead" {
		t.Fatalf("update with lead 192h: %v, want refused on lead", err)
	}
	got, err := db.Campaign(ctx, c.ID)
	must(t, err)
	if got.Lead.D() != 7*24*time.Hour || got.Version != 1 {
		t.Fatalf("a refused update changed the campaign: lead %s, version %d", got.Lead.D(), got.Version)
	}

	// A max_lead shorter than the default lead makes it the default.
	short := MustOpen(t, sqlite.WithLimits(queue.Limits{MaxLead: 12 * time.Hour}))
	d := &queue.Campaign{Name: "daily", Accounts: []string{"a"}, Schedule: "@daily", Pool: []string{"x"}}
	must(t, short.CreateCampaign(ctx, ann, d))
	if d.Lead.D() != 12*time.Hour {
		t.Fatalf("default lead under max_lead 12h: %s", d.Lead.D())
	}
}

func TestZoneLocalIsRefused(t *testing.T) {
	db := MustOpen(t)
	err := db.CreateCampaign(context.Background(), ann, &queue.Campaign{Name: "c", Accounts: []string{"a"}, TimeZone: "Local"})
	if queue.ErrorField(err) != "timezone" || !strings.Contains(err.Error(), "Europe/Paris") {
		t.Fatalf("zone Local: %v, want refused on timezone with an IANA example", err)
	}
}

// TestOpenPostLimit: a campaign may have at most MaxOpenPosts posts that are not done
// with, whatever adds them (one post, an import, a recurring tick); what is refused
// changes nothing, and posts done with make room.
func TestOpenPostLimit(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	db := MustOpen(t, sqlite.WithClock(func() time.Time { return now }), sqlite.WithLimits(queue.Limits{MaxOpenPosts: 3}))
	c := &queue.Campaign{Name: "spring", Accounts: []string{"a"}}
	must(t, db.CreateCampaign(ctx, ann, c))
	post := func(i int) *queue.Post {
		return &queue.Post{CampaignID: c.ID, Text: "post", DueAt: now.Add(time.Duration(i+1) * time.Hour)}
	}
	must(t, db.CreatePost(ctx, ann, post(0)))
	must(t, db.CreatePost(ctx, ann, &queue.Post{CampaignID: c.ID, Text: "draft", DueAt: now.Add(time.Hour), State: queue.PostDraft}))

	// An import that would go beyond: refused whole.
	err := db.CreatePosts(ctx, ann, []*queue.Post{post(1), post(2)})
	if !queue.IsOpenLimit(err) || !strings.Contains(err.Error(), "max_open_posts_per_campaign") || !strings.Contains(err.Error(), `"spring"`) {
		t.Fatalf("import beyond the limit: %v, want the open-post limit naming the campaign and the key", err)
	}
	got, err := db.Campaign(ctx, c.ID)
	must(t, err)
	if got.OpenPosts != 2 || got.Problem != "" {
		t.Fatalf("after the refused import: open_posts %d, problem %q; want 2 and none", got.OpenPosts, got.Problem)
	}
	must(t, db.CreatePost(ctx, ann, post(3)))
	if err := db.CreatePost(ctx, ann, post(4)); !queue.IsOpenLimit(err) || queue.ErrorKind(err) != queue.Conflict {
		t.Fatalf("fourth post: %v, want a conflict on the open-post limit", err)
	}
	got, err = db.CampaignByName(ctx, "spring")
	must(t, err)
	if got.OpenPosts != 3 || !strings.Contains(got.Problem, "3 open posts") {
		t.Fatalf("at the limit: open_posts %d, problem %q", got.OpenPosts, got.Problem)
	}
	cs, err := db.Campaigns(ctx, queue.CampaignFilter{CountOpen: true})
	must(t, err)
	if len(cs) != 1 || cs[0].OpenPosts != 3 || cs[0].Problem == "" {
		t.Fatalf("Campaigns with CountOpen: %+v", cs[0])
	}

	// A rejected post is done with: it makes room.
	ps, _, err := db.Posts(ctx, queue.PostFilter{CampaignID: c.ID})
	must(t, err)
	if _, err := db.Apply(ctx, ann, ps[0].ID, 0, queue.EventReject, "no"); err != nil {
		t.Fatal(err)
	}
	must(t, db.CreatePost(ctx, ann, post(5)))
}

func TestAddTickRefusesBeyondTheOpenPostLimit(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 8, 0, 30, 0, time.UTC)
	db := MustOpen(t, sqlite.WithClock(func() time.Time { return now }), sqlite.WithLimits(queue.Limits{MaxOpenPosts: 1}))
	c := &queue.Campaign{Name: "minutely", Accounts: []string{"a"}, Schedule: "* * * * *", Pool: []string{"x"}}
	must(t, db.CreateCampaign(ctx, ann, c))
	tick := c.NextTick
	p := &queue.Post{Text: "x", Accounts: []string{"a"}, DueAt: tick}
	must(t, db.AddTick(ctx, c.ID, tick, tick.Add(time.Minute), p))
	p2 := &queue.Post{Text: "x", Accounts: []string{"a"}, DueAt: tick.Add(time.Minute)}
	if err := db.AddTick(ctx, c.ID, tick.Add(time.Minute), tick.Add(2*time.Minute), p2); !queue.IsOpenLimit(err) {
		t.Fatalf("second tick: %v, want the open-post limit", err)
	}
	got, err := db.Campaign(ctx, c.ID)
	must(t, err)
	if !got.NextTick.Equal(tick.Add(time.Minute)) {
		t.Fatalf("a refused tick moved NextTick to %v", got.NextTick)
	}
}

// TestCountOpenOverManyCampaigns: the open posts of more campaigns than one statement may
// name are all counted.
func TestCountOpenOverManyCampaigns(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	db := MustOpen(t, sqlite.WithClock(func() time.Time { return now }))
	var last *queue.Campaign
	for i := range 520 {
		last = &queue.Campaign{Name: fmt.Sprintf("c%03d", i), Accounts: []string{"a"}}
		must(t, db.CreateCampaign(ctx, ann, last))
	}
	for range 2 {
		must(t, db.CreatePost(ctx, ann, &queue.Post{CampaignID: last.ID, Text: "x", DueAt: now.Add(time.Hour)}))
	}
	cs, err := db.Campaigns(ctx, queue.CampaignFilter{CountOpen: true})
	must(t, err)
	if len(cs) != 520 || cs[519].Name != last.Name || cs[519].OpenPosts != 2 || cs[0].OpenPosts != 0 {
		t.Fatalf("%d campaigns, the last %s with %d open posts; want 520, %s with 2", len(cs), cs[len(cs)-1].Name, cs[len(cs)-1].OpenPosts, last.Name)
	}
}

package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

func testCampaignValidation(t *testing.T, open Opener) {
	e := setup(t, open)
	for _, tc := range []struct {
		name  string
		field string
		mod   func(*queue.Campaign)
	}{
		{"empty name", "name", func(c *queue.Campaign) { c.Name = "  " }},
		{"no accounts", "accounts", func(c *queue.Campaign) { c.Accounts = nil }},
		{"bad approval", "approval", func(c *queue.Campaign) { c.Approval = "sometimes" }},
		{"bad zone", "timezone", func(c *queue.Campaign) { c.TimeZone = "Mars/Olympus" }},
		{"host zone", "timezone", func(c *queue.Campaign) { c.TimeZone = "Local" }},
		{"lead beyond the default max_lead", "lead", func(c *queue.Campaign) { c.Lead = queue.Duration(queue.DefaultMaxLead + time.Hour) }},
		{"negative late", "late", func(c *queue.Campaign) { c.Late = queue.Duration(-time.Minute) }},
		{"negative veto", "veto", func(c *queue.Campaign) { c.Veto = queue.Duration(-time.Minute) }},
		{"negative lead", "lead", func(c *queue.Campaign) { c.Lead = queue.Duration(-time.Hour) }},
		{"bad schedule", "schedule", func(c *queue.Campaign) { c.Schedule = "every tuesday" }},
	} {
		c := &queue.Campaign{Name: "spring", Accounts: []string{"mastodon-main"}}
		tc.mod(c)
		wantField(t, e.s.CreateCampaign(e.ctx, ann, c), tc.field)
	}
	cs, err := e.s.Campaigns(e.ctx, queue.CampaignFilter{})
	e.must(err)
	if len(cs) != 0 {
		t.Fatalf("invalid campaigns were stored: %d", len(cs))
	}
	e.must(e.s.CreateCampaign(e.ctx, ann, &queue.Campaign{Name: "spring", Accounts: []string{"a"}}))
	wantKind(t, e.s.CreateCampaign(e.ctx, ann, &queue.Campaign{Name: "spring", Accounts: []string{"b"}}), queue.Conflict, "spring")
}

func testCampaignCreateRead(t *testing.T, open Opener) {
	e := setup(t, open)
	c := &queue.Campaign{Name: "spring-sale", Accounts: []string{"mastodon-main", "bluesky-main"}, Topics: []string{"travel", "promotion"},
		TimeZone: "Europe/Paris", Approval: queue.ApprovalAutopilot, Veto: queue.Duration(3 * time.Hour)}
	e.must(e.s.CreateCampaign(e.ctx, ann, c))
	if c.ID == 0 || c.Version != 1 || c.State != queue.CampaignActive || !c.CreatedAt.Equal(Start) {
		t.Fatalf("created campaign not filled in: %+v", c)
	}
	if c.Late.D() != queue.DefaultLate || c.Veto.D() != 3*time.Hour {
		t.Fatalf("durations: late %s veto %s, want the default late and the given veto", c.Late.D(), c.Veto.D())
	}
	got, err := e.s.Campaign(e.ctx, c.ID)
	e.must(err)
	if got.Name != c.Name || !slices.Equal(got.Accounts, c.Accounts) || !slices.Equal(got.Topics, c.Topics) ||
		got.TimeZone != "Europe/Paris" || got.Approval != queue.ApprovalAutopilot || got.Veto != c.Veto || got.Late != c.Late ||
		got.State != queue.CampaignActive || got.Pause != nil || got.Version != 1 {
		t.Fatalf("read back %+v, stored %+v", got, c)
	}
	byName, err := e.s.CampaignByName(e.ctx, "spring-sale")
	e.must(err)
	if byName.ID != c.ID {
		t.Fatalf("CampaignByName found %d, want %d", byName.ID, c.ID)
	}
	_, err = e.s.Campaign(e.ctx, c.ID+100)
	wantKind(t, err, queue.NotFound)
	_, err = e.s.CampaignByName(e.ctx, "nope")
	wantKind(t, err, queue.NotFound, "nope")

	other := e.campaign()
	_, err = e.s.PauseCampaigns(e.ctx, []int64{other.ID}, queue.Pause{By: ann, Reason: "rebrand"})
	e.must(err)
	active, err := e.s.Campaigns(e.ctx, queue.CampaignFilter{State: queue.CampaignActive})
	e.must(err)
	if len(active) != 1 || active[0].ID != c.ID {
		t.Fatalf("active campaigns: %v", active)
	}
	named, err := e.s.Campaigns(e.ctx, queue.CampaignFilter{Name: other.Name})
	e.must(err)
	if len(named) != 1 || named[0].State != queue.CampaignPaused {
		t.Fatalf("campaigns named %s: %v", other.Name, named)
	}
	e.auditHas(ann, "campaign.create", "campaign:spring-sale", "")
}

func testCampaignUpdate(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign()
	stale := *c
	c.Name, c.Topics, c.Accounts = "renamed", []string{"air-travel"}, append(c.Accounts, "bluesky-main")
	e.must(e.s.UpdateCampaign(e.ctx, ann, c))
	if c.Version != 2 {
		t.Fatalf("version after update %d, want 2", c.Version)
	}
	got := e.reloadCampaign(c)
	if got.Name != "renamed" || !slices.Equal(got.Topics, []string{"air-travel"}) || len(got.Accounts) != 2 || got.Version != 2 {
		t.Fatalf("after update: %+v", got)
	}
	stale.Topics = []string{"lost"}
	wantKind(t, e.s.UpdateCampaign(e.ctx, ann, &stale), queue.Conflict, "changed")
	if got := e.reloadCampaign(c); slices.Contains(got.Topics, "lost") {
		t.Fatal("a stale update was stored")
	}
	other := e.campaign()
	other.Name = "renamed"
	wantKind(t, e.s.UpdateCampaign(e.ctx, ann, other), queue.Conflict, "renamed")
	bad := e.reloadCampaign(c)
	bad.TimeZone = "Nowhere/Land"
	wantField(t, e.s.UpdateCampaign(e.ctx, ann, bad), "timezone")

	arch := e.reloadCampaign(c)
	arch.State = queue.CampaignArchived
	e.must(e.s.UpdateCampaign(e.ctx, ann, arch))
	if got := e.reloadCampaign(c); got.State != queue.CampaignArchived {
		t.Fatalf("archived campaign is %s", got.State)
	}
	_, err := e.s.PauseCampaigns(e.ctx, []int64{c.ID}, queue.Pause{By: ann, Reason: "x"})
	e.must(err)
	if got := e.reloadCampaign(c); got.State != queue.CampaignArchived {
		t.Fatalf("pausing an archived campaign made it %s", got.State)
	}
	wantKind(t, e.s.CreatePost(e.ctx, ann, &queue.Post{CampaignID: c.ID, Text: "x", DueAt: e.now().Add(time.Hour)}), queue.Conflict, "archived")
	paused := e.campaign()
	_, err = e.s.PauseCampaigns(e.ctx, []int64{paused.ID}, queue.Pause{By: ann, Reason: "x"})
	e.must(err)
	p2 := e.reloadCampaign(paused)
	p2.State = queue.CampaignActive
	wantField(t, e.s.UpdateCampaign(e.ctx, ann, p2), "state")
	e.auditHas(ann, "campaign.update", "campaign:renamed", "name")
	e.auditHas(ann, "campaign.archive", "campaign:renamed", "")
}

func testAddTick(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign(func(c *queue.Campaign) {
		c.Schedule, c.TimeZone, c.Pool = "0 9 * * *", "Europe/Paris", []string{"Good morning!", "Bonjour !"}
	})
	// 09:00 UTC on Start is 10:00 in Paris, so the first 09:00 Paris tick is the next day at 08:00 UTC.
	first := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	if !c.NextTick.Equal(first) || c.Lead.D() != queue.DefaultLead {
		t.Fatalf("next tick %s lead %s, want %s and the default lead", c.NextTick, c.Lead.D(), first)
	}
	second := first.Add(24 * time.Hour)
	p := &queue.Post{Text: c.Pool[0], DueAt: first}
	e.must(e.s.AddTick(e.ctx, c.ID, first, second, p))
	if p.ID == 0 || !p.Tick.Equal(first) || p.State != queue.PostPending || p.CampaignID != c.ID {
		t.Fatalf("tick post: %+v", p)
	}
	got := e.reloadCampaign(c)
	if !got.NextTick.Equal(second) || got.PoolCursor != 1 {
		t.Fatalf("after tick: next %s cursor %d", got.NextTick, got.PoolCursor)
	}
	// A second scheduler (or a restart) handling the same tick gets a conflict, not a second post.
	dup := &queue.Post{Text: c.Pool[0], DueAt: first}
	wantKind(t, e.s.AddTick(e.ctx, c.ID, first, second, dup), queue.Conflict, "already")
	ps, _, err := e.s.Posts(e.ctx, queue.PostFilter{CampaignID: c.ID})
	e.must(err)
	if len(ps) != 1 {
		t.Fatalf("%d posts after a duplicate tick, want 1", len(ps))
	}
	// A skipped tick advances without a post.
	e.must(e.s.AddTick(e.ctx, c.ID, second, second.Add(24*time.Hour), nil))
	got = e.reloadCampaign(c)
	if !got.NextTick.Equal(second.Add(24*time.Hour)) || got.PoolCursor != 2 {
		t.Fatalf("after skip: next %s cursor %d", got.NextTick, got.PoolCursor)
	}
	// A stale tick, even a skipped one, is refused: two schedulers never both advance.
	wantKind(t, e.s.AddTick(e.ctx, c.ID, second, second.Add(48*time.Hour), nil), queue.Conflict, "already")
	if again := e.reloadCampaign(c); !again.NextTick.Equal(got.NextTick) || again.PoolCursor != 2 {
		t.Fatal("a stale skipped tick moved the cursor")
	}
	// A bad post refuses the whole tick: the cursor does not move.
	wantField(t, e.s.AddTick(e.ctx, c.ID, got.NextTick, got.NextTick.Add(24*time.Hour), &queue.Post{DueAt: got.NextTick}), "text")
	if again := e.reloadCampaign(c); !again.NextTick.Equal(got.NextTick) {
		t.Fatal("a refused tick moved the cursor")
	}
	wantKind(t, e.s.AddTick(e.ctx, c.ID+99, first, second, nil), queue.NotFound)
	e.auditHas(queue.System("scheduler"), "campaign.tick", "campaign:"+c.Name, "skipped")
}

func testPauseResume(t *testing.T, open Opener) {
	e := setup(t, open)
	a, b := e.campaign(), e.campaign()
	_, err := e.s.PauseCampaigns(e.ctx, []int64{a.ID}, queue.Pause{By: ann})
	wantField(t, err, "reason")
	_, err = e.s.PauseCampaigns(e.ctx, []int64{a.ID, 999}, queue.Pause{By: ann, Reason: "x"})
	wantKind(t, err, queue.NotFound)
	if e.reloadCampaign(a).State != queue.CampaignActive {
		t.Fatal("a refused pause paused a campaign")
	}
	ids, err := e.s.PauseCampaigns(e.ctx, []int64{a.ID}, queue.Pause{By: ann, Reason: "brand review"})
	e.must(err)
	if !slices.Equal(ids, []int64{a.ID}) {
		t.Fatalf("paused %v", ids)
	}
	ids, err = e.s.PauseCampaigns(e.ctx, []int64{a.ID, b.ID}, queue.Pause{By: bob, Reason: "second"})
	e.must(err)
	if !slices.Equal(ids, []int64{b.ID}) {
		t.Fatalf("second pause paused %v, want only %d (the other was already paused)", ids, b.ID)
	}
	got := e.reloadCampaign(a)
	if got.State != queue.CampaignPaused || got.Pause == nil || got.Pause.Reason != "brand review" || got.Pause.By != ann || !got.Pause.At.Equal(Start) {
		t.Fatalf("paused campaign: %+v pause %+v", got, got.Pause)
	}
	e.auditHas(ann, "campaign.pause", "campaign:"+a.Name, "brand review")
	e.must(e.s.ResumeCampaign(e.ctx, bob, a.ID))
	got = e.reloadCampaign(a)
	if got.State != queue.CampaignActive || got.Pause != nil {
		t.Fatalf("resumed campaign: %+v", got)
	}
	wantKind(t, e.s.ResumeCampaign(e.ctx, bob, a.ID), queue.Conflict, "not paused")
	wantKind(t, e.s.ResumeCampaign(e.ctx, bob, 999), queue.NotFound)
	e.auditHas(bob, "campaign.resume", "campaign:"+a.Name, "brand review")
}

func testPauseAllResumeAll(t *testing.T, open Opener) {
	e := setup(t, open)
	a, b, own := e.campaign(), e.campaign(), e.campaign()
	_, err := e.s.PauseCampaigns(e.ctx, []int64{own.ID}, queue.Pause{By: bob, Reason: "its own reason"})
	e.must(err)
	_, err = e.s.PauseAll(e.ctx, ann, "")
	wantField(t, err, "reason")
	n, err := e.s.PauseAll(e.ctx, ann, "crisis")
	e.must(err)
	if n != 2 {
		t.Fatalf("PauseAll paused %d, want 2", n)
	}
	for _, c := range []*queue.Campaign{a, b} {
		if got := e.reloadCampaign(c); got.State != queue.CampaignPaused || got.Pause.Reason != "crisis" {
			t.Fatalf("%s after PauseAll: %s %+v", c.Name, got.State, got.Pause)
		}
	}
	n, err = e.s.ResumeAll(e.ctx, ann)
	e.must(err)
	if n != 2 {
		t.Fatalf("ResumeAll resumed %d, want 2", n)
	}
	if got := e.reloadCampaign(own); got.State != queue.CampaignPaused || got.Pause.Reason != "its own reason" {
		t.Fatalf("ResumeAll resumed a campaign paused for its own reason: %s %+v", got.State, got.Pause)
	}
	if got := e.reloadCampaign(a); got.State != queue.CampaignActive {
		t.Fatalf("after ResumeAll: %s", got.State)
	}
	// A campaign paused by PauseAll and resumed by hand is not resumed (again) by ResumeAll.
	_, err = e.s.PauseAll(e.ctx, ann, "crisis 2")
	e.must(err)
	e.must(e.s.ResumeCampaign(e.ctx, ann, a.ID))
	_, err = e.s.PauseCampaigns(e.ctx, []int64{a.ID}, queue.Pause{By: bob, Reason: "later, by hand"})
	e.must(err)
	n, err = e.s.ResumeAll(e.ctx, ann)
	e.must(err)
	if n != 1 || e.reloadCampaign(a).State != queue.CampaignPaused {
		t.Fatalf("ResumeAll resumed %d; campaign paused by hand afterwards is %s", n, e.reloadCampaign(a).State)
	}
	e.auditHas(ann, "campaign.pause_all", "campaign:*", "crisis")
}

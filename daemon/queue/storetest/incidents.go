package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

func testContext(t *testing.T, open Opener) {
	e := setup(t, open)
	_, err := e.s.AddContext(e.ctx, []*queue.ContextItem{{Source: "bbc", Title: ""}})
	wantField(t, err, "title")
	_, err = e.s.AddContext(e.ctx, []*queue.ContextItem{{Title: "x"}})
	wantField(t, err, "source")
	items := []*queue.ContextItem{
		{Source: "bbc", GUID: "g1", Title: "Jetliner crashes", URL: "https://bbc.example/1", Language: "en", PublishedAt: e.now().Add(-time.Hour)},
		{Source: "lemonde", URL: "https://lemonde.example/a", Title: "Un avion s'écrase"},
		{Source: "api", Title: "Storm warning"},
	}
	added, err := e.s.AddContext(e.ctx, items)
	e.must(err)
	if len(added) != 3 || added[0].ID == 0 || !added[0].SeenAt.Equal(e.now()) || !added[0].PublishedAt.Equal(items[0].PublishedAt) {
		t.Fatalf("added: %+v", added)
	}
	e.clock.Advance(time.Minute)
	again := []*queue.ContextItem{
		{Source: "bbc", GUID: "g1", Title: "Jetliner crashes (updated headline)"},             // same GUID
		{Source: "lemonde", URL: "https://lemonde.example/a", Title: "Un avion s'est écrasé"}, // same URL
		{Source: "api", Title: "Storm warning"},                                               // same title
		{Source: "reuters", GUID: "g1", Title: "Jetliner crashes"},                            // other source: new
	}
	added, err = e.s.AddContext(e.ctx, again)
	e.must(err)
	if len(added) != 1 || added[0].Source != "reuters" {
		t.Fatalf("second batch added %d items: %+v", len(added), added)
	}
	recent, err := e.s.RecentContext(e.ctx, time.Time{}, 0)
	e.must(err)
	if len(recent) != 4 || recent[0].Source != "reuters" || recent[3].Title != "Jetliner crashes" || recent[3].GUID != "g1" || recent[3].Language != "en" {
		t.Fatalf("recent, newest first: %+v", recent)
	}
	recent, err = e.s.RecentContext(e.ctx, e.now(), 10)
	e.must(err)
	if len(recent) != 1 {
		t.Fatalf("items seen since the last minute: %d", len(recent))
	}
	recent, err = e.s.RecentContext(e.ctx, time.Time{}, 2)
	e.must(err)
	if len(recent) != 2 {
		t.Fatalf("limit 2 returned %d", len(recent))
	}
}

func crash(id int64, title string) queue.Evidence {
	return queue.Evidence{ItemID: id, Source: "bbc", Title: title, URL: fmt.Sprintf("https://bbc.example/%d", id), Terms: []string{"crash"}}
}

func testRecordIncident(t *testing.T, open Opener) {
	e := setup(t, open)
	_, _, err := e.s.RecordIncident(e.ctx, &queue.Incident{Action: "pause", ClosesAt: e.now()})
	wantField(t, err, "rule_id")
	_, _, err = e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: "r", Action: "explode", ClosesAt: e.now()})
	wantField(t, err, "action")
	_, _, err = e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: "r", Action: "pause"})
	wantField(t, err, "closes_at")

	in, opened, err := e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: "air-disaster", Action: "pause", Resume: "auto",
		LastItemAt: e.now(), ClosesAt: e.now().Add(72 * time.Hour), Evidence: []queue.Evidence{crash(1, "Jetliner crashes")}})
	e.must(err)
	if !opened || in.ID == 0 || in.State != queue.IncidentOpen || !in.OpenedAt.Equal(e.now()) || len(in.Evidence) != 1 ||
		in.OpenedBy != (queue.Actor{Kind: queue.ActorRule, Name: "air-disaster"}) || in.Evidence[0].Terms[0] != "crash" {
		t.Fatalf("opened incident: %+v", in)
	}
	e.clock.Advance(time.Hour)
	ext, opened, err := e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: "air-disaster", Action: "pause", Resume: "auto",
		LastItemAt: e.now(), ClosesAt: e.now().Add(72 * time.Hour),
		Evidence: []queue.Evidence{crash(1, "Jetliner crashes"), crash(2, "Death toll rises"), {Source: "afp", Title: "Crash: black boxes found"}}})
	e.must(err)
	if opened || ext.ID != in.ID || len(ext.Evidence) != 3 || !ext.LastItemAt.Equal(e.now()) || !ext.ClosesAt.Equal(e.now().Add(72*time.Hour)) {
		t.Fatalf("extended incident: opened %v %+v", opened, ext)
	}
	// The same title from the same source again is not new evidence; an older item does not
	// move the closing time back.
	ext, _, err = e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: "air-disaster", Action: "pause", Resume: "auto",
		LastItemAt: Start, ClosesAt: Start.Add(72 * time.Hour), Evidence: []queue.Evidence{{Source: "afp", Title: "Crash: black boxes found"}}})
	e.must(err)
	if len(ext.Evidence) != 3 || !ext.ClosesAt.Equal(e.now().Add(72*time.Hour)) {
		t.Fatalf("after a repeated item: %d evidence, closes %s", len(ext.Evidence), ext.ClosesAt)
	}
	// A person declares the incident the rule already opened: one incident, with the note.
	decl, opened, err := e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: "air-disaster", Action: "pause", Declared: true,
		Note: "confirmed by the crisis desk", OpenedBy: ann, ClosesAt: e.now().Add(time.Hour)})
	e.must(err)
	if opened || decl.ID != in.ID || !decl.Declared || decl.Note != "confirmed by the crisis desk" || !decl.ClosesAt.Equal(e.now().Add(72*time.Hour)) {
		t.Fatalf("declared over an open incident: opened %v %+v", opened, decl)
	}
	other, opened, err := e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: "wildfire", Action: "hold", ClosesAt: e.now().Add(time.Hour)})
	e.must(err)
	if !opened || other.ID == in.ID || other.Resume != "manual" {
		t.Fatalf("another rule's incident: %+v", other)
	}
	e.auditHas(queue.Actor{Kind: queue.ActorRule, Name: "air-disaster"}, "incident.open", fmt.Sprintf("incident:%d", in.ID), "Jetliner crashes")
	e.auditHas(queue.Actor{Kind: queue.ActorRule, Name: "air-disaster"}, "incident.extend", fmt.Sprintf("incident:%d", in.ID), "2 new")
	got, err := e.s.Incident(e.ctx, in.ID)
	e.must(err)
	if len(got.Evidence) != 3 || got.Evidence[1].Title != "Death toll rises" {
		t.Fatalf("read back: %+v", got)
	}
	_, err = e.s.Incident(e.ctx, 999)
	wantKind(t, err, queue.NotFound)
}

func (e *env) incident(rule, resume string, ev ...queue.Evidence) *queue.Incident {
	e.t.Helper()
	in, _, err := e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: rule, Action: "pause", Resume: resume,
		LastItemAt: e.now(), ClosesAt: e.now().Add(72 * time.Hour), Evidence: ev})
	e.must(err)
	return in
}

func testApplyIncident(t *testing.T, open Opener) {
	e := setup(t, open)
	in := e.incident("air-disaster", "manual", crash(1, "Jetliner crashes"), crash(2, "Death toll rises"))
	travel, air, already := e.campaign(), e.campaign(), e.campaign()
	_, err := e.s.PauseCampaigns(e.ctx, []int64{already.ID}, queue.Pause{By: ann, Reason: "by hand"})
	e.must(err)
	food := e.campaign()
	// One transaction: an unknown campaign refuses the whole action, nothing is paused.
	_, err = e.s.ApplyIncident(e.ctx, in.ID, queue.IncidentAction{PauseCampaigns: []int64{travel.ID, 99999}})
	wantKind(t, err, queue.NotFound)
	if got := e.reloadCampaign(travel); got.State != queue.CampaignActive {
		t.Fatalf("a refused incident action paused a campaign: %s", got.State)
	}
	pending := e.post(food, time.Hour, func(p *queue.Post) { p.Text = "Fly-in brunch" })
	approved := e.apply(e.post(food, time.Hour), queue.EventApprove, "")
	published := e.postIn(queue.PostPublished)
	flagged := e.post(food, 2*time.Hour)
	eff, err := e.s.ApplyIncident(e.ctx, in.ID, queue.IncidentAction{
		PauseCampaigns: []int64{travel.ID, air.ID, already.ID},
		HoldPosts:      []int64{pending.ID, approved.ID, published.ID},
		FlagPosts:      []int64{flagged.ID, flagged.ID},
	})
	e.must(err)
	if !slices.Equal(eff.Paused, []int64{travel.ID, air.ID}) || !slices.Equal(eff.Held, []int64{pending.ID, approved.ID}) || !slices.Equal(eff.Flagged, []int64{flagged.ID}) {
		t.Fatalf("effect %+v", eff)
	}
	rule := queue.Actor{Kind: queue.ActorRule, Name: "air-disaster"}
	c := e.reloadCampaign(travel)
	if c.State != queue.CampaignPaused || c.Pause == nil || c.Pause.By != rule || c.Pause.RuleID != "air-disaster" || c.Pause.IncidentID != in.ID ||
		c.Pause.Reason != "rule air-disaster: Jetliner crashes" || len(c.Pause.Evidence) != 2 || c.Pause.Evidence[0].URL != "https://bbc.example/1" {
		t.Fatalf("paused by the rule: %s %+v", c.State, c.Pause)
	}
	if got := e.reloadCampaign(already); got.Pause.Reason != "by hand" {
		t.Fatalf("an incident replaced a person's pause: %+v", got.Pause)
	}
	for _, p := range []*queue.Post{pending, approved} {
		got := e.wantState(p, queue.PostHeld)
		if got.Reason != "rule air-disaster: Jetliner crashes" || got.ApprovedBy != "" {
			t.Fatalf("held post: reason %q approved by %q", got.Reason, got.ApprovedBy)
		}
	}
	e.wantState(published, queue.PostPublished)
	if got := e.reload(flagged); !slices.Equal(got.Flags, []string{"air-disaster"}) || got.State != queue.PostPending {
		t.Fatalf("flagged post: %s %v", got.State, got.Flags)
	}
	e.auditHas(rule, "campaign.pause", "campaign:"+travel.Name, "Death toll rises")
	e.auditHas(rule, "post.hold", fmt.Sprintf("post:%d", pending.ID), "Jetliner")
	e.auditHas(rule, "post.flag", fmt.Sprintf("post:%d", flagged.ID), "air-disaster")
	// Applying again changes nothing new.
	eff, err = e.s.ApplyIncident(e.ctx, in.ID, queue.IncidentAction{PauseCampaigns: []int64{travel.ID}, HoldPosts: []int64{pending.ID}, FlagPosts: []int64{flagged.ID}})
	e.must(err)
	if len(eff.Paused)+len(eff.Held)+len(eff.Flagged) != 0 {
		t.Fatalf("second application: %+v", eff)
	}
	if got := e.reload(flagged); len(got.Flags) != 1 {
		t.Fatalf("flags %v", got.Flags)
	}
	_, err = e.s.ApplyIncident(e.ctx, 999, queue.IncidentAction{})
	wantKind(t, err, queue.NotFound)
	_, err = e.s.ResolveIncident(e.ctx, ann, in.ID, "false alarm")
	e.must(err)
	_, err = e.s.ApplyIncident(e.ctx, in.ID, queue.IncidentAction{PauseCampaigns: []int64{food.ID}})
	wantKind(t, err, queue.Conflict, "resolved")
	if e.reloadCampaign(food).State != queue.CampaignActive {
		t.Fatal("a resolved incident paused a campaign")
	}
}

func testCloseExpiredAutoResume(t *testing.T, open Opener) {
	e := setup(t, open)
	auto := e.incident("storm", "auto", crash(1, "Storm hits coast"))
	onlyAuto, both, onlyManual, byHand := e.campaign(), e.campaign(), e.campaign(), e.campaign()
	_, err := e.s.PauseCampaigns(e.ctx, []int64{byHand.ID}, queue.Pause{By: ann, Reason: "by hand"})
	e.must(err)
	_, err = e.s.ApplyIncident(e.ctx, auto.ID, queue.IncidentAction{PauseCampaigns: []int64{onlyAuto.ID, both.ID, byHand.ID}})
	e.must(err)
	e.clock.Advance(time.Hour)
	// The manual incident starts later, with a longer window: it covers both, already paused.
	manual, _, err := e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: "air-disaster", Action: "pause", Resume: "manual",
		LastItemAt: e.now(), ClosesAt: e.now().Add(100 * time.Hour), Evidence: []queue.Evidence{crash(2, "Jetliner crashes")}})
	e.must(err)
	_, err = e.s.ApplyIncident(e.ctx, manual.ID, queue.IncidentAction{PauseCampaigns: []int64{both.ID, onlyManual.ID}})
	e.must(err)

	closed, err := e.s.CloseExpired(e.ctx, e.now())
	e.must(err)
	if len(closed) != 0 {
		t.Fatalf("closed %d incidents before their time", len(closed))
	}
	e.clock.Set(auto.ClosesAt)
	closed, err = e.s.CloseExpired(e.ctx, e.now())
	e.must(err)
	if len(closed) != 1 || closed[0].ID != auto.ID || closed[0].State != queue.IncidentClosed || !closed[0].ClosedAt.Equal(e.now()) {
		t.Fatalf("closed: %+v", closed)
	}
	if got := e.reloadCampaign(onlyAuto); got.State != queue.CampaignActive {
		t.Fatalf("campaign paused only by the auto incident is %s after it closed", got.State)
	}
	got := e.reloadCampaign(both)
	if got.State != queue.CampaignPaused || got.Pause.RuleID != "air-disaster" || got.Pause.IncidentID != manual.ID {
		t.Fatalf("campaign still covered by another open incident: %s %+v", got.State, got.Pause)
	}
	if got := e.reloadCampaign(byHand); got.State != queue.CampaignPaused || got.Pause.Reason != "by hand" {
		t.Fatalf("a person's pause was lifted by an incident: %s %+v", got.State, got.Pause)
	}
	e.auditHas(queue.Actor{Kind: queue.ActorRule, Name: "storm"}, "campaign.resume", "campaign:"+onlyAuto.Name, "resumes automatically")
	e.auditHas(queue.Actor{Kind: queue.ActorRule, Name: "storm"}, "incident.close", fmt.Sprintf("incident:%d", auto.ID), "")
	e.clock.Set(manual.ClosesAt.Add(time.Minute))
	closed, err = e.s.CloseExpired(e.ctx, e.now())
	e.must(err)
	if len(closed) != 1 || closed[0].ID != manual.ID {
		t.Fatalf("closed %+v", closed)
	}
	for _, c := range []*queue.Campaign{both, onlyManual} {
		if got := e.reloadCampaign(c); got.State != queue.CampaignPaused {
			t.Fatalf("resume=manual: %s is %s after its incident closed; a person resumes it", c.Name, got.State)
		}
	}
	if got, err := e.s.Incident(e.ctx, auto.ID); err != nil || got.State != queue.IncidentClosed {
		t.Fatalf("stored incident: %+v %v", got, err)
	}
}

func testResolveIncident(t *testing.T, open Opener) {
	e := setup(t, open)
	in := e.incident("flood", "auto", crash(1, "River bursts its banks"))
	c := e.campaign()
	_, err := e.s.ApplyIncident(e.ctx, in.ID, queue.IncidentAction{PauseCampaigns: []int64{c.ID}})
	e.must(err)
	got, err := e.s.ResolveIncident(e.ctx, ann, in.ID, "water receded")
	e.must(err)
	if got.State != queue.IncidentResolved || got.Note != "water receded" || !got.ClosedAt.Equal(e.now()) {
		t.Fatalf("resolved: %+v", got)
	}
	if e.reloadCampaign(c).State != queue.CampaignActive {
		t.Fatal("resolving a resume=auto incident did not resume its campaign")
	}
	_, err = e.s.ResolveIncident(e.ctx, ann, in.ID, "again")
	wantKind(t, err, queue.Conflict, "resolved")
	_, err = e.s.ResolveIncident(e.ctx, ann, 999, "")
	wantKind(t, err, queue.NotFound)
	e.auditHas(ann, "incident.resolve", fmt.Sprintf("incident:%d", in.ID), "water receded")
	// A new incident for the same rule opens afresh once the old one is resolved.
	again, opened, err := e.s.RecordIncident(e.ctx, &queue.Incident{RuleID: "flood", Action: "pause", ClosesAt: e.now().Add(time.Hour)})
	e.must(err)
	if !opened || again.ID == in.ID {
		t.Fatalf("after resolve: opened %v id %d", opened, again.ID)
	}
}

func testIncidents(t *testing.T, open Opener) {
	e := setup(t, open)
	a := e.incident("air-disaster", "manual")
	e.clock.Advance(time.Hour)
	b := e.incident("storm", "auto")
	_, err := e.s.ResolveIncident(e.ctx, ann, a.ID, "")
	e.must(err)
	ids := func(f queue.IncidentFilter) []int64 {
		t.Helper()
		ins, err := e.s.Incidents(e.ctx, f)
		e.must(err)
		var out []int64
		for _, in := range ins {
			out = append(out, in.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    queue.IncidentFilter
		want []int64
	}{
		{"all, newest first", queue.IncidentFilter{}, []int64{b.ID, a.ID}},
		{"open", queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}}, []int64{b.ID}},
		{"rule", queue.IncidentFilter{RuleID: "air-disaster"}, []int64{a.ID}},
		{"limit", queue.IncidentFilter{Limit: 1}, []int64{b.ID}},
	} {
		if got := ids(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func testAudit(t *testing.T, open Opener) {
	e := setup(t, open)
	wantField(t, e.s.Audit(e.ctx, queue.AuditEntry{Action: "rules.reload"}), "actor")
	wantField(t, e.s.Audit(e.ctx, queue.AuditEntry{Actor: ann}), "action")
	// A backend may have written entries of its own when it opened (schema upgrades).
	before, err := e.s.AuditLog(e.ctx, time.Time{}, 0)
	e.must(err)
	e.must(e.s.Audit(e.ctx, queue.AuditEntry{Actor: queue.System("watch"), Action: "rules.reload", Object: "rules", Detail: "42 rules"}))
	e.clock.Advance(time.Hour)
	e.must(e.s.Audit(e.ctx, queue.AuditEntry{Actor: ann, Action: "rules.reload", Detail: "43 rules"}))
	es, err := e.s.AuditLog(e.ctx, time.Time{}, 0)
	e.must(err)
	if len(es) != len(before)+2 || es[0].Detail != "43 rules" || !es[0].At.Equal(e.now()) || es[1].Actor != queue.System("watch") || es[1].Object != "rules" {
		t.Fatalf("audit log, newest first: %+v", es)
	}
	es, err = e.s.AuditLog(e.ctx, e.now(), 0)
	e.must(err)
	if len(es) != 1 {
		t.Fatalf("since now: %d entries", len(es))
	}
	es, err = e.s.AuditLog(e.ctx, time.Time{}, 1)
	e.must(err)
	if len(es) != 1 {
		t.Fatalf("limit 1: %d entries", len(es))
	}
}

func testUsers(t *testing.T, open Opener) {
	e := setup(t, open)
	admin := queue.Actor{Kind: queue.ActorUser, Name: "root"}
	token := queue.NewToken()
	wantField(t, e.s.CreateUser(e.ctx, admin, &queue.User{Name: "ann", Role: "owner"}, queue.HashToken(token)), "role")
	wantField(t, e.s.CreateUser(e.ctx, admin, &queue.User{Name: "", Role: queue.RoleAdmin}, queue.HashToken(token)), "name")
	wantField(t, e.s.CreateUser(e.ctx, admin, &queue.User{Name: "ann", Role: queue.RoleAdmin}, token), "token")
	u := &queue.User{Name: "ann", Role: queue.RoleMarketer}
	e.must(e.s.CreateUser(e.ctx, admin, u, queue.HashToken(token)))
	if u.ID == 0 || !u.CreatedAt.Equal(e.now()) {
		t.Fatalf("created user %+v", u)
	}
	wantKind(t, e.s.CreateUser(e.ctx, admin, &queue.User{Name: "ann", Role: queue.RoleViewer}, queue.HashToken(queue.NewToken())), queue.Conflict, "ann")
	e.must(e.s.CreateUser(e.ctx, admin, &queue.User{Name: "bob", Role: queue.RoleViewer}, queue.HashToken(queue.NewToken())))
	got, err := e.s.UserByTokenHash(e.ctx, queue.HashToken(token))
	e.must(err)
	if got.Name != "ann" || got.Role != queue.RoleMarketer {
		t.Fatalf("user by token: %+v", got)
	}
	_, err = e.s.UserByTokenHash(e.ctx, queue.HashToken("tact_wrong"))
	wantKind(t, err, queue.NotFound)
	us, err := e.s.Users(e.ctx)
	e.must(err)
	if len(us) != 2 || us[0].Name != "ann" || us[1].Name != "bob" {
		t.Fatalf("users: %+v", us)
	}
	e.must(e.s.DeleteUser(e.ctx, admin, "ann"))
	_, err = e.s.UserByTokenHash(e.ctx, queue.HashToken(token))
	wantKind(t, err, queue.NotFound)
	wantKind(t, e.s.DeleteUser(e.ctx, admin, "ann"), queue.NotFound)
	e.auditHas(admin, "user.create", "user:ann", "marketer")
	e.auditHas(admin, "user.delete", "user:ann", "")
	es, err := e.s.AuditLog(e.ctx, time.Time{}, 100)
	e.must(err)
	for _, a := range es {
		if strings.Contains(a.Detail+a.Object, token) || strings.Contains(a.Detail+a.Object, queue.HashToken(token)) {
			t.Fatalf("audit entry %+v carries the token", a)
		}
	}
}

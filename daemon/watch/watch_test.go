package watch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/daemon/watch"
)

// The classic failure: a cheerful flight promotion while a plane crash leads the news.
func TestCrashHeadlineInFeedFilePausesTravelCampaign(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "world.xml")
	writeFile(t, path, fixture(t, "feeds/calm.xml"))
	e := newEnv(t, envOpts{feeds: []config.Feed{feed("world", fileURL(path), 20*time.Millisecond)}})
	travel, _ := e.campaign(t, "summer-flights", []string{"travel", "promotion"}, true, "Fly to Lisbon this summer from €49 ✈️")
	knit, knitPosts := e.campaign(t, "knitting", []string{"crafts"}, true, "Our new wool colours are in")
	e.run(t)

	waitFor(t, "the calm feed to be read", func() bool { return feedStatus(e.w, "world").Items == 2 })
	waitFor(t, "an unchanged poll", func() bool { return feedStatus(e.w, "world").NotMod >= 1 })
	if len(e.open(t)) != 0 || e.campaignState(t, travel.ID).State != queue.CampaignActive {
		t.Fatal("calm news opened an incident")
	}

	writeFile(t, path, fixture(t, "feeds/crash.xml"))
	waitFor(t, "the crash item", func() bool { return feedStatus(e.w, "world").Items == 3 })
	// The pause is part of the poll that saw the item: no later pass is needed.
	c := e.campaignState(t, travel.ID)
	if c.State != queue.CampaignPaused || c.Pause == nil || c.Pause.RuleID != "air-disaster" {
		t.Fatalf("travel campaign after the crash headline: %+v pause %+v", c.State, c.Pause)
	}
	if len(c.Pause.Evidence) != 1 || !contains(c.Pause.Evidence[0].Title, "Airliner with 242 aboard") ||
		c.Pause.Evidence[0].URL != "https://news.example/world/airliner-crash" || c.Pause.Evidence[0].Source != "world" {
		t.Fatalf("pause evidence: %+v", c.Pause.Evidence)
	}
	if k := e.campaignState(t, knit.ID); k.State != queue.CampaignActive {
		t.Fatalf("unrelated campaign is %s", k.State)
	}
	if p := e.post(t, knitPosts[0].ID); p.State != queue.PostApproved {
		t.Fatalf("unrelated post is %s", p.State)
	}
	waitFor(t, "the pause webhook", func() bool {
		return e.hook.find(notify.CampaignPaused, func(ev notify.Event, text string) bool {
			return ev.RuleID == "air-disaster" && ev.Campaign == "summer-flights" && contains(text, "Airliner with 242 aboard") &&
				contains(text, "https://news.example/world/airliner-crash") && len(ev.Evidence) == 1
		})
	})
	if e.hook.find(notify.CampaignPaused, func(ev notify.Event, _ string) bool { return ev.Campaign == "knitting" }) {
		t.Fatal("knitting was reported paused")
	}
	// HTML is stripped from summaries before matching and storing.
	items, err := e.st.RecentContext(ctxBG, time.Now().Add(-time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if strings.ContainsAny(it.Summary, "<>") || contains(it.Summary, "track()") || it.Language != "en" {
			t.Fatalf("item not cleaned: %+v", it)
		}
	}
	// Later polls of the same file add nothing and open nothing new.
	polls := feedStatus(e.w, "world").Polls
	waitFor(t, "two more polls", func() bool { return feedStatus(e.w, "world").Polls >= polls+2 })
	if s := feedStatus(e.w, "world"); s.Items != 3 || len(e.open(t)) != 1 {
		t.Fatalf("re-polling changed things: %+v, %d open", s, len(e.open(t)))
	}
}

func TestAtomAndJSONFeeds(t *testing.T) {
	dir := t.TempDir()
	atom, jsonf := filepath.Join(dir, "actu.xml"), filepath.Join(dir, "storm.json")
	writeFile(t, atom, fixture(t, "feeds/atom.xml"))
	writeFile(t, jsonf, fixture(t, "feeds/feed.json"))
	e := newEnv(t, envOpts{feeds: []config.Feed{
		feed("actu", fileURL(atom), 20*time.Millisecond),
		{Name: "storms", URL: fileURL(jsonf), Every: config.Duration{Duration: 20 * time.Millisecond}, Language: "de"},
	}})
	travel, _ := e.campaign(t, "vols", []string{"air-travel"}, false, "Nos vols pour Lisbonne")
	_, beach := e.campaign(t, "beach-club", []string{"leisure"}, true, "Beach party on Saturday")
	e.run(t)
	waitFor(t, "both feeds", func() bool {
		return feedStatus(e.w, "actu").Items == 1 && feedStatus(e.w, "storms").Items == 1
	})
	if c := e.campaignState(t, travel.ID); c.State != queue.CampaignPaused || c.Pause.RuleID != "air-disaster" {
		t.Fatalf("French crash headline (Atom, xml:lang=fr) did not pause: %+v", c.Pause)
	}
	if p := e.post(t, beach[0].ID); p.State != queue.PostHeld || !contains(p.Reason, "hurricane") {
		t.Fatalf("JSON Feed hurricane did not hold the beach post: %s %q", p.State, p.Reason)
	}
	items, _ := e.st.RecentContext(ctxBG, time.Now().Add(-time.Hour), 10)
	langs := map[string]string{}
	for _, it := range items {
		langs[it.Source] = it.Language
	}
	if langs["actu"] != "fr" || langs["storms"] != "en" {
		t.Fatalf("languages: %v (the feed's own language wins over the config's)", langs)
	}
}

func TestOldItemsAreContextOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "archive.xml")
	old := time.Now().Add(-10 * 24 * time.Hour).UTC().Format(time.RFC1123Z)
	writeFile(t, path, []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>Archive</title>
<item><title>Plane crash in the mountains</title><guid>old-1</guid><pubDate>`+old+`</pubDate></item>
</channel></rss>`))
	e := newEnv(t, envOpts{feeds: []config.Feed{feed("archive", fileURL(path), 20*time.Millisecond)}})
	travel, _ := e.campaign(t, "summer-flights", []string{"travel"}, false, "Fly away")
	e.run(t)
	waitFor(t, "the archive item", func() bool { return feedStatus(e.w, "archive").Items == 1 })
	if len(e.open(t)) != 0 || e.campaignState(t, travel.ID).State != queue.CampaignActive {
		t.Fatal("a ten-day-old item opened a 72h incident")
	}
}

// rssServer serves an RSS document with validators and counts conditional hits.
type rssServer struct {
	body     atomic.Value // string
	etag     atomic.Value // string
	requests atomic.Int64
	notMod   atomic.Int64
	mode     atomic.Value // "ok", "500", "hang", "huge", "huge-length", "malformed"
	srv      *httptest.Server
}

func newRSSServer(t *testing.T, items ...string) *rssServer {
	s := &rssServer{}
	s.set(items...)
	s.mode.Store("ok")
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		switch s.mode.Load().(string) {
		case "500":
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		case "hang":
			<-r.Context().Done()
			return
		case "huge", "huge-length":
			if s.mode.Load() == "huge-length" {
				w.Header().Set("Content-Length", fmt.Sprint(50<<20))
			}
			w.Header().Set("Content-Type", "application/rss+xml")
			chunk := []byte(strings.Repeat("<item><title>x</title></item>", 1000))
			w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel>`))
			for n := 0; n < 50<<20; n += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return // the client gave up: good
				}
			}
			return
		case "malformed":
			w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>Half`))
			return
		}
		etag := s.etag.Load().(string)
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Sun, 22 Nov 2026 08:00:00 GMT")
		if r.Header.Get("If-None-Match") == etag {
			s.notMod.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(s.body.Load().(string)))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *rssServer) set(titles ...string) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><language>en</language>`)
	for i, title := range titles {
		fmt.Fprintf(&b, `<item><title>%s</title><link>https://wire.example/%d</link><guid>wire-%d</guid></item>`, title, i, i)
	}
	b.WriteString(`</channel></rss>`)
	s.body.Store(b.String())
	s.etag.Store(fmt.Sprintf(`"v%d"`, len(titles)))
}

func TestConditionalGET(t *testing.T) {
	s := newRSSServer(t, "Council approves cycle lanes", "Markets steady")
	e := newEnv(t, envOpts{feeds: []config.Feed{feed("wire", s.srv.URL, 20*time.Millisecond)}})
	e.run(t)
	waitFor(t, "three 304 answers", func() bool { return s.notMod.Load() >= 3 })
	st := feedStatus(e.w, "wire")
	if st.Items != 2 || st.NotMod < 3 || st.LastError != "" {
		t.Fatalf("status: %+v", st)
	}
	s.set("Council approves cycle lanes", "Markets steady", "Hurricane Delia nears the coast")
	waitFor(t, "the new item after the ETag changed", func() bool { return feedStatus(e.w, "wire").Items == 3 })
	if len(e.open(t)) != 1 || e.open(t)[0].RuleID != "hurricane" {
		t.Fatalf("open incidents: %+v", e.open(t))
	}
}

func TestBrokenFeedsAreReportedAndRecover(t *testing.T) {
	cases := []struct {
		mode, want string
	}{
		{"500", "500 Internal Server Error"},
		{"hang", "feed timeout of 150ms"},
		{"huge", "larger than the 10 MiB limit"},
		{"huge-length", "52428800 bytes, over the 10 MiB limit"},
		{"malformed", "not a readable RSS, Atom or JSON feed"},
	}
	servers := map[string]*rssServer{}
	var feeds []config.Feed
	for _, c := range cases {
		s := newRSSServer(t, "Plane crash at "+c.mode)
		s.mode.Store(c.mode)
		servers[c.mode] = s
		f := feed(c.mode, s.srv.URL, 20*time.Millisecond)
		f.Timeout = config.Duration{Duration: 10 * time.Second} // room for reading 10 MiB under -race
		if c.mode == "hang" {
			f.Timeout = config.Duration{Duration: 150 * time.Millisecond}
		}
		feeds = append(feeds, f)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.xml")
	writeFile(t, bad, fixture(t, "feeds/malformed.xml"))
	feeds = append(feeds, feed("bad-file", fileURL(bad), 20*time.Millisecond), feed("missing-file", fileURL(filepath.Join(dir, "nope.xml")), 20*time.Millisecond))
	e := newEnv(t, envOpts{feeds: feeds})
	travel, _ := e.campaign(t, "summer-flights", []string{"travel"}, false, "Fly away")
	e.run(t)

	for _, c := range cases {
		waitFor(t, c.mode+" reported", func() bool {
			st := feedStatus(e.w, c.mode)
			return st.Failures >= 2 && contains(st.LastError, c.want)
		})
	}
	waitFor(t, "bad file reported", func() bool { return contains(feedStatus(e.w, "bad-file").LastError, "not a readable RSS") })
	waitFor(t, "missing file reported", func() bool { return contains(feedStatus(e.w, "missing-file").LastError, "no such file") })
	for _, s := range e.w.FeedStatus() {
		if !s.LastOK.IsZero() || s.Items != 0 || s.NextPoll.IsZero() {
			t.Fatalf("broken feed counted as read: %+v", s)
		}
	}
	if len(e.open(t)) != 0 {
		t.Fatal("a broken feed opened an incident")
	}
	// Backoff: a failing feed is polled less often than every 20ms, but still polled (capped at 100ms).
	st := feedStatus(e.w, "500")
	if gap := st.NextPoll.Sub(st.LastPoll); gap < 40*time.Millisecond || gap > 100*time.Millisecond {
		t.Fatalf("backoff after %d failures: %v", st.Failures, gap)
	}

	// Fixed: every feed recovers and its news acts.
	for _, s := range servers {
		s.mode.Store("ok")
	}
	writeFile(t, bad, fixture(t, "feeds/crash.xml"))
	for _, c := range append(cases, struct{ mode, want string }{"bad-file", ""}) {
		waitFor(t, c.mode+" recovered", func() bool {
			st := feedStatus(e.w, c.mode)
			return st.LastError == "" && !st.LastOK.IsZero() && st.Items >= 1 && st.Failures == 0
		})
	}
	if c := e.campaignState(t, travel.ID); c.State != queue.CampaignPaused {
		t.Fatalf("recovered feeds' crash news did not pause: %s", c.State)
	}
	if ins := e.open(t); len(ins) != 1 || len(ins[0].Evidence) != 6 {
		t.Fatalf("want one incident with the six sources' items, got %+v", ins)
	}
}

func TestPushDedupAndIncidents(t *testing.T) {
	e := newEnv(t, envOpts{})
	travel, _ := e.campaign(t, "summer-flights", []string{"travel"}, true, "Fly to Lisbon")
	item := &queue.ContextItem{Source: "newsroom", Title: "Plane crash near Lisbon airport", URL: "https://wire.example/1", Language: "en"}
	got, incs, err := e.w.Push(ctxBG, item)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == 0 || len(incs) != 1 || incs[0].RuleID != "air-disaster" || incs[0].State != queue.IncidentOpen {
		t.Fatalf("push: %+v %+v", got, incs)
	}
	// The action is applied before Push returns.
	if c := e.campaignState(t, travel.ID); c.State != queue.CampaignPaused || c.Pause.IncidentID != incs[0].ID {
		t.Fatalf("campaign after push: %s %+v", c.State, c.Pause)
	}
	// The same item again is a duplicate: no id, no incident.
	again, incs2, err := e.w.Push(ctxBG, &queue.ContextItem{Source: "newsroom", Title: "Plane crash near Lisbon airport", URL: "https://wire.example/1"})
	if err != nil || again.ID != 0 || len(incs2) != 0 {
		t.Fatalf("duplicate push: %+v %+v %v", again, incs2, err)
	}
	// A second report extends the same incident.
	_, incs3, err := e.w.Push(ctxBG, &queue.ContextItem{Source: "other-wire", Title: "Airliner crash-landed, dozens hurt"})
	if err != nil || len(incs3) != 1 || incs3[0].ID != incs[0].ID || len(incs3[0].Evidence) != 2 {
		t.Fatalf("extension: %+v %v", incs3, err)
	}
	if n := e.hook.count(notify.CampaignPaused); n > 1 {
		t.Fatalf("paused twice: %d notifications", n)
	}
	// Bad input changes nothing.
	if _, _, err := e.w.Push(ctxBG, &queue.ContextItem{Source: "x", Title: "  "}); queue.ErrorKind(err) != queue.Invalid || queue.ErrorField(err) != "title" {
		t.Fatalf("empty title: %v", err)
	}
	if _, _, err := e.w.Push(ctxBG, &queue.ContextItem{Title: "Plane crash", Language: "klingon"}); queue.ErrorKind(err) != queue.Invalid {
		t.Fatalf("bad language: %v", err)
	}
	// Default source is "api".
	it, _, err := e.w.Push(ctxBG, &queue.ContextItem{Title: "Cycle lanes approved"})
	if err != nil || it.Source != "api" {
		t.Fatalf("default source: %+v %v", it, err)
	}
}

func TestMinSources(t *testing.T) {
	e := newEnv(t, envOpts{})
	camping, _ := e.campaign(t, "camp-out", []string{"camping"}, false, "Pitch your tent by the lake")
	_, incs, err := e.w.Push(ctxBG, &queue.ContextItem{Source: "local-paper", Title: "Wildfire spreads near the lake"})
	if err != nil || len(incs) != 0 {
		t.Fatalf("one source acted: %+v %v", incs, err)
	}
	_, incs, _ = e.w.Push(ctxBG, &queue.ContextItem{Source: "local-paper", Title: "Forest fire: villages evacuated"})
	if len(incs) != 0 || len(e.open(t)) != 0 || e.campaignState(t, camping.ID).State != queue.CampaignActive {
		t.Fatal("the same source twice acted")
	}
	// A second watcher on the same store (a restart) still remembers what was seen.
	w2, err := watch.New(watch.Options{Store: e.st, Rules: e.rules, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	_, incs, err = w2.Push(ctxBG, &queue.ContextItem{Source: "national-tv", Title: "Wildfire: army called in"})
	if err != nil || len(incs) != 1 || incs[0].RuleID != "wildfire" {
		t.Fatalf("second source: %+v %v", incs, err)
	}
	if len(incs[0].Evidence) != 3 {
		t.Fatalf("evidence: %+v", incs[0].Evidence)
	}
	if c := e.campaignState(t, camping.ID); c.State != queue.CampaignPaused || c.Pause.RuleID != "wildfire" {
		t.Fatalf("camping campaign: %s", c.State)
	}
}

func TestHoldAndFlagActions(t *testing.T) {
	e := newEnv(t, envOpts{})
	club, posts := e.campaign(t, "beach-club", []string{"leisure"}, true, "Beach party this Saturday!", "Our new menu is out", "Shake up your routine with yoga")
	_, incs, err := e.w.Push(ctxBG, &queue.ContextItem{Source: "wire", Title: "Hurricane Delia makes landfall"})
	if err != nil || len(incs) != 1 {
		t.Fatal(incs, err)
	}
	if p := e.post(t, posts[0].ID); p.State != queue.PostHeld || !contains(p.Reason, "hurricane") {
		t.Fatalf("beach post: %s %q", p.State, p.Reason)
	}
	if p := e.post(t, posts[1].ID); p.State != queue.PostApproved {
		t.Fatalf("menu post: %s", p.State)
	}
	if c := e.campaignState(t, club.ID); c.State != queue.CampaignActive {
		t.Fatal("hold rule paused the campaign")
	}
	waitFor(t, "held webhook", func() bool {
		return e.hook.find(notify.PostHeld, func(ev notify.Event, text string) bool {
			return ev.PostID == posts[0].ID && ev.RuleID == "hurricane" && contains(text, "Hurricane Delia")
		})
	})

	_, incs, err = e.w.Push(ctxBG, &queue.ContextItem{Source: "wire", Title: "Strong earthquake hits the coast"})
	if err != nil || len(incs) != 1 {
		t.Fatal(incs, err)
	}
	p := e.post(t, posts[2].ID)
	if p.State != queue.PostApproved || !slices.Contains(p.Flags, "earthquake") {
		t.Fatalf("yoga post: %s flags %v", p.State, p.Flags)
	}
	if f := e.post(t, posts[1].ID).Flags; len(f) != 0 {
		t.Fatalf("menu flagged: %v", f)
	}
	waitFor(t, "flag webhook", func() bool {
		return e.hook.find(notify.PostFlagged, func(ev notify.Event, _ string) bool { return ev.PostID == posts[2].ID })
	})
	ws := e.w.PostWarnings(ctxBG, club, p)
	if len(ws) == 0 || !contains(strings.Join(ws, "\n"), "earthquake") || !contains(strings.Join(ws, "\n"), "Strong earthquake") {
		t.Fatalf("warnings: %q", ws)
	}
	if ws := e.w.PostWarnings(ctxBG, club, e.post(t, posts[1].ID)); len(ws) != 0 {
		t.Fatalf("menu warnings: %q", ws)
	}
	// Once the incident is over, the flag stays and says which rule left it.
	if _, err := e.w.Resolve(ctxBG, queue.Actor{Kind: queue.ActorUser, Name: "ann"}, incs[0].ID, "aftershocks over"); err != nil {
		t.Fatal(err)
	}
	if ws := e.w.PostWarnings(ctxBG, club, p); len(ws) != 1 || ws[0] != "Flagged by rule earthquake: Flag 'shake' wording after an earthquake." {
		t.Fatalf("warnings after the incident: %q", ws)
	}
}

// The publisher's last check: an open incident blocks a post even before its campaign is paused.
func TestGateBlocksBeforeThePause(t *testing.T) {
	e := newEnv(t, envOpts{})
	now := time.Now()
	mk := func(name string, topics []string, text string) (*queue.Campaign, *queue.Post) {
		c := &queue.Campaign{Name: name, Accounts: []string{"acct-" + name}, Topics: topics}
		if err := e.st.CreateCampaign(ctxBG, queue.System("test"), c); err != nil {
			t.Fatal(err)
		}
		p := &queue.Post{CampaignID: c.ID, Text: text, DueAt: now.Add(-time.Minute)}
		if err := e.st.CreatePost(ctxBG, queue.System("test"), p); err != nil {
			t.Fatal(err)
		}
		p, err := e.st.Apply(ctxBG, queue.Actor{Kind: queue.ActorUser, Name: "ann"}, p.ID, 0, queue.EventApprove, "")
		if err != nil {
			t.Fatal(err)
		}
		return c, p
	}
	travel, tp := mk("air-deals", []string{"travel"}, "Deals to Rome")
	_, sp := mk("spring-sale", []string{"fashion"}, "Book your flight and our spring dresses")
	_, kp := mk("knitting", []string{"crafts"}, "Shake off winter with new wool")
	// Incidents recorded but not applied: the moment between an incident opening and its pause.
	for _, r := range []struct{ id, action string }{{"air-disaster", "pause"}, {"earthquake", "flag"}} {
		if _, _, err := e.st.RecordIncident(ctxBG, &queue.Incident{RuleID: r.id, Action: r.action, ClosesAt: now.Add(time.Hour),
			Evidence: []queue.Evidence{{Source: "wire", Title: "Plane crash and earthquake"}}}); err != nil {
			t.Fatal(err)
		}
	}
	claims, err := e.st.ClaimDue(ctxBG, queue.ClaimRequest{Now: now, Limit: 10, Gate: e.w.Gate()})
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 || claims[0].Post.ID != kp.ID {
		t.Fatalf("claimed %d posts, want only the knitting one (flag rules never block)", len(claims))
	}
	if c := e.campaignState(t, travel.ID); c.State != queue.CampaignActive {
		t.Fatal("the gate is not supposed to pause")
	}
	if p := e.post(t, tp.ID); p.State != queue.PostApproved {
		t.Fatalf("topic-matched post: %s (blocked, approval kept for the campaign pause)", p.State)
	}
	if p := e.post(t, sp.ID); p.State != queue.PostHeld || !contains(p.Reason, "rule air-disaster: Plane crash") {
		t.Fatalf("text-matched post: %s %q", p.State, p.Reason)
	}
	gate := e.w.Gate()
	if reason, hold := gate(travel, tp, e.open(t)); reason != "rule air-disaster: Plane crash and earthquake" || hold {
		t.Fatalf("gate: %q %v", reason, hold)
	}
}

func TestIncidentExpiryAutoAndManualResume(t *testing.T) {
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	e := newEnv(t, envOpts{clock: clk})
	camping, _ := e.campaign(t, "camp-out", []string{"camping"}, false, "Pitch your tent")
	travel, _ := e.campaign(t, "summer-flights", []string{"travel"}, false, "Fly away")
	e.run(t)
	for _, it := range []*queue.ContextItem{
		{Source: "a", Title: "Wildfire near the lake"}, {Source: "b", Title: "Forest fire spreads"},
		{Source: "a", Title: "Plane crash off the coast"},
	} {
		if _, _, err := e.w.Push(ctxBG, it); err != nil {
			t.Fatal(err)
		}
	}
	if e.campaignState(t, camping.ID).State != queue.CampaignPaused || e.campaignState(t, travel.ID).State != queue.CampaignPaused {
		t.Fatal("both campaigns should be paused")
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	// The expiry loop sleeps until the wildfire incident's end (12h), not polling.
	if !clk.WaitForTimer(done, func(d time.Time) bool { return d.Equal(start.Add(12 * time.Hour)) }) {
		t.Fatal("no expiry timer")
	}
	clk.Advance(12 * time.Hour)
	waitFor(t, "wildfire closed and camping resumed", func() bool {
		return e.campaignState(t, camping.ID).State == queue.CampaignActive
	})
	waitFor(t, "resume webhook", func() bool {
		return e.hook.find(notify.CampaignResumed, func(ev notify.Event, _ string) bool { return ev.Campaign == "camp-out" }) &&
			e.hook.find(notify.IncidentClosed, func(ev notify.Event, _ string) bool { return ev.RuleID == "wildfire" })
	})
	if ins := e.open(t); len(ins) != 1 || ins[0].RuleID != "air-disaster" {
		t.Fatalf("open: %+v", ins)
	}
	if !clk.WaitForTimer(done, func(d time.Time) bool { return d.Equal(start.Add(72 * time.Hour)) }) {
		t.Fatal("no expiry timer for the air disaster")
	}
	clk.Advance(60 * time.Hour)
	waitFor(t, "air-disaster closed", func() bool { return len(e.open(t)) == 0 })
	if c := e.campaignState(t, travel.ID); c.State != queue.CampaignPaused {
		t.Fatalf("resume=manual campaign resumed by itself: %s", c.State)
	}
	waitFor(t, "close webhook", func() bool {
		return e.hook.find(notify.IncidentClosed, func(ev notify.Event, text string) bool {
			return ev.RuleID == "air-disaster" && contains(text, "stay paused until a person resumes")
		})
	})
	if e.hook.find(notify.CampaignResumed, func(ev notify.Event, _ string) bool { return ev.Campaign == "summer-flights" }) {
		t.Fatal("manual campaign reported resumed")
	}
}

func TestDeclareAndResolve(t *testing.T) {
	e := newEnv(t, envOpts{})
	travel, _ := e.campaign(t, "summer-flights", []string{"travel"}, false, "Fly away")
	camping, _ := e.campaign(t, "camp-out", []string{"camping"}, false, "Tents")
	ann := queue.Actor{Kind: queue.ActorUser, Name: "ann"}
	if _, err := e.w.Declare(ctxBG, ann, "no-such-rule", "x"); queue.ErrorKind(err) != queue.NotFound || !contains(err.Error(), "air-disaster") {
		t.Fatalf("unknown rule: %v", err)
	}
	if _, err := e.w.Declare(ctxBG, ann, "air-disaster", " "); queue.ErrorKind(err) != queue.Invalid {
		t.Fatalf("empty note: %v", err)
	}
	in, err := e.w.Declare(ctxBG, ann, "air-disaster", "Crash reported on our own flight partner's radio")
	if err != nil {
		t.Fatal(err)
	}
	if !in.Declared || in.OpenedBy != ann || len(in.Evidence) != 1 || in.Evidence[0].Title != "Crash reported on our own flight partner's radio" {
		t.Fatalf("declared: %+v", in)
	}
	if c := e.campaignState(t, travel.ID); c.State != queue.CampaignPaused || c.Pause.IncidentID != in.ID {
		t.Fatalf("declared incident did not pause: %s", c.State)
	}
	// min_sources does not apply to a person.
	w, err := e.w.Declare(ctxBG, ann, "wildfire", "Fire brigade called us")
	if err != nil || e.campaignState(t, camping.ID).State != queue.CampaignPaused {
		t.Fatalf("declared wildfire: %v", err)
	}
	if _, err := e.w.Resolve(ctxBG, ann, w.ID, "fire out"); err != nil {
		t.Fatal(err)
	}
	if c := e.campaignState(t, camping.ID); c.State != queue.CampaignActive {
		t.Fatalf("resume=auto campaign after resolve: %s", c.State)
	}
	r, err := e.w.Resolve(ctxBG, ann, in.ID, "false alarm")
	if err != nil || r.State != queue.IncidentResolved {
		t.Fatalf("resolve: %+v %v", r, err)
	}
	if c := e.campaignState(t, travel.ID); c.State != queue.CampaignPaused {
		t.Fatal("resume=manual campaign resumed on resolve")
	}
	if _, err := e.w.Resolve(ctxBG, ann, in.ID, "again"); queue.ErrorKind(err) != queue.Conflict {
		t.Fatalf("resolve twice: %v", err)
	}
	waitFor(t, "resolve webhook", func() bool {
		return e.hook.find(notify.IncidentClosed, func(ev notify.Event, text string) bool {
			return ev.IncidentID == in.ID && contains(text, "resolved by ann: false alarm")
		}) && e.hook.find(notify.CampaignResumed, func(ev notify.Event, _ string) bool { return ev.Campaign == "camp-out" })
	})
}

func TestReloadBadFileKeepsOldSet(t *testing.T) {
	e := newEnv(t, envOpts{rules: []string{"air.toml"}})
	before := e.rules.Set()
	copyFile(t, "testdata/bad/broken.toml", filepath.Join(e.dir, "air.toml"))
	err := e.rules.Reload(ctxBG)
	want := filepath.Join(e.dir, "air.toml") + ":4:"
	if err == nil || !contains(err.Error(), want) || !contains(err.Error(), "pasue") {
		t.Fatalf("reload error %v, want it to name %s", err, want)
	}
	if e.rules.Set() != before || e.rules.Set().Rule("air-disaster").Action != "pause" {
		t.Fatal("the previous set is not in force")
	}
	st := e.rules.Status()
	if !contains(st.LastReloadError, want) || st.LastReloadAt.IsZero() || len(st.Rules) != 1 || st.Rules[0].ID != "air-disaster" || st.Rules[0].Line != 2 {
		t.Fatalf("status: %+v", st)
	}
	audit, _ := e.st.AuditLog(ctxBG, time.Now().Add(-time.Hour), 100)
	if !slices.ContainsFunc(audit, func(a queue.AuditEntry) bool {
		return a.Action == "rules.reload" && contains(a.Detail, "error: "+want)
	}) {
		t.Fatalf("audit: %+v", audit)
	}
	waitFor(t, "reload failure webhook", func() bool {
		return e.hook.find(notify.RulesReloadError, func(_ notify.Event, text string) bool { return contains(text, want) })
	})
	// Incidents keep working with the old set.
	travel, _ := e.campaign(t, "summer-flights", []string{"travel"}, false, "Fly")
	if _, incs, err := e.w.Push(ctxBG, &queue.ContextItem{Title: "Plane crash"}); err != nil || len(incs) != 1 {
		t.Fatal(incs, err)
	}
	if e.campaignState(t, travel.ID).State != queue.CampaignPaused {
		t.Fatal("old set did not act")
	}
	// Fixed: the new set goes in and the error clears.
	copyFile(t, "testdata/rules/air.toml", filepath.Join(e.dir, "air.toml"))
	copyFile(t, "testdata/rules/quake.toml", filepath.Join(e.dir, "quake.toml"))
	if err := e.rules.Reload(ctxBG); err != nil {
		t.Fatal(err)
	}
	if st := e.rules.Status(); st.LastReloadError != "" || len(st.Rules) != 2 || len(st.Files) != 2 {
		t.Fatalf("status after fix: %+v", st)
	}
	if ok, bad := e.rules.ReloadCounts(); ok != 1 || bad != 1 {
		t.Fatalf("counts %d %d", ok, bad)
	}
}

func TestStartRefusesInvalidRules(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "testdata/bad/broken.toml", filepath.Join(dir, "broken.toml"))
	_, err := watch.NewRules(ctxBG, []string{filepath.Join(dir, "*.toml")}, watch.RulesOptions{Logger: quiet()})
	if err == nil || !contains(err.Error(), filepath.Join(dir, "broken.toml")+":4:") {
		t.Fatalf("err = %v", err)
	}
	_, err = watch.NewRules(ctxBG, []string{filepath.Join(dir, "none", "*.toml")}, watch.RulesOptions{Logger: quiet()})
	if err == nil {
		t.Fatal("a glob matching nothing was accepted")
	}
}

func TestFileChangesReloadRules(t *testing.T) {
	e := newEnv(t, envOpts{rules: []string{"air.toml"}})
	ctx, cancel := context.WithCancel(ctxBG)
	done := make(chan struct{})
	go func() { _ = e.rules.Watch(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	// Wait until the watcher is set up: a touched rule file that changes nothing must not
	// reload, but a new one must; so write until the new rule shows up.
	copyFile(t, "testdata/rules/quake.toml", filepath.Join(e.dir, "quake.toml"))
	waitFor(t, "the new rule file to be loaded", func() bool { return e.rules.Set().Rule("earthquake") != nil })
	if e.rules.Status().LastReloadError != "" {
		t.Fatal(e.rules.Status().LastReloadError)
	}
	// A test file beside the rules is not a rule file.
	writeFile(t, filepath.Join(e.dir, "air.test.toml"), []byte("garbage ["))
	// A bad edit is refused and reported; the set in force stays.
	copyFile(t, "testdata/bad/broken.toml", filepath.Join(e.dir, "air.toml"))
	waitFor(t, "the bad edit to be reported", func() bool {
		return contains(e.rules.Status().LastReloadError, "air.toml:4:")
	})
	if r := e.rules.Set().Rule("air-disaster"); r == nil || r.Action != "pause" {
		t.Fatal("bad edit replaced the set")
	}
	copyFile(t, "testdata/rules/storm.toml", filepath.Join(e.dir, "air.toml"))
	waitFor(t, "the fixed file to be loaded", func() bool { return e.rules.Set().Rule("hurricane") != nil })
	if e.rules.Set().Rule("air-disaster") != nil || e.rules.Status().LastReloadError != "" {
		t.Fatal("the removed rule is still in force")
	}
}

func TestPreviewChangesNothing(t *testing.T) {
	e := newEnv(t, envOpts{rules: []string{"quake.toml"}})
	travel, _ := e.campaign(t, "summer-flights", []string{"travel"}, false, "Fly to Lisbon")
	sale, salePosts := e.campaign(t, "spring-sale", []string{"fashion"}, true, "Book a flight, get a dress", "Dresses from €20")
	// Context the rules in force do not react to.
	if _, err := e.st.AddContext(ctxBG, []*queue.ContextItem{
		{Source: "wire", Title: "Plane crash in the Andes", URL: "https://wire.example/andes", SeenAt: time.Now()},
		{Source: "wire", Title: "Wildfire near Lyon", SeenAt: time.Now()},
	}); err != nil {
		t.Fatal(err)
	}
	auditBefore, _ := e.st.AuditLog(ctxBG, time.Time{}, 1000)
	files := map[string][]byte{"air.toml": fixture(t, "rules/air.toml"), "wildfire.toml": fixture(t, "rules/wildfire.toml")}
	p, err := e.rules.Preview(ctxBG, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Campaigns) != 1 || p.Campaigns[0].ID != travel.ID || p.Campaigns[0].Rule != "air-disaster" || p.Campaigns[0].Action != "pause" {
		t.Fatalf("campaigns: %+v", p.Campaigns)
	}
	if len(p.Posts) != 1 || p.Posts[0].ID != salePosts[0].ID || p.Posts[0].Action != "hold" || p.Posts[0].Campaign != "spring-sale" {
		t.Fatalf("posts: %+v", p.Posts)
	}
	if h := p.Headlines["air-disaster"]; len(h) != 1 || h[0] != "Plane crash in the Andes" {
		t.Fatalf("headlines: %+v", p.Headlines)
	}
	if _, ok := p.Headlines["wildfire"]; ok {
		t.Fatal("wildfire needs two sources")
	}
	// Nothing changed.
	if e.campaignState(t, travel.ID).State != queue.CampaignActive || e.campaignState(t, sale.ID).State != queue.CampaignActive ||
		e.post(t, salePosts[0].ID).State != queue.PostApproved || len(e.open(t)) != 0 || e.rules.Set().Rule("air-disaster") != nil {
		t.Fatal("preview changed something")
	}
	auditAfter, _ := e.st.AuditLog(ctxBG, time.Time{}, 1000)
	if len(auditAfter) != len(auditBefore) {
		t.Fatalf("preview wrote %d audit entries", len(auditAfter)-len(auditBefore))
	}
	// Invalid files: every problem, FILE:LINE, nothing previewed.
	_, err = e.rules.Preview(ctxBG, map[string][]byte{"mine.toml": fixture(t, "bad/broken.toml")})
	if queue.ErrorKind(err) != queue.Invalid || !contains(err.Error(), "mine.toml:4:") {
		t.Fatalf("invalid preview: %v", err)
	}
	if _, err := e.rules.Preview(ctxBG, nil); queue.ErrorKind(err) != queue.Invalid {
		t.Fatalf("empty preview: %v", err)
	}
}

func TestTrendsArePolled(t *testing.T) {
	var calls atomic.Int64
	e := newEnv(t, envOpts{opt: func(o *watch.Options) {
		o.TrendsEvery = 20 * time.Millisecond
		o.Trends = func(ctx context.Context) ([]*queue.ContextItem, error) {
			if calls.Add(1) == 1 {
				return nil, fmt.Errorf("plugin not ready")
			}
			return []*queue.ContextItem{{Source: "plugin:brand-mastodon", Title: "#PlaneCrash trending"}}, nil
		}
	}})
	travel, _ := e.campaign(t, "summer-flights", []string{"travel"}, false, "Fly")
	e.run(t)
	waitFor(t, "the trend to pause", func() bool { return e.campaignState(t, travel.ID).State == queue.CampaignPaused })
	waitFor(t, "more polls", func() bool { return calls.Load() >= 4 })
	if ins := e.open(t); len(ins) != 1 || len(ins[0].Evidence) != 1 {
		t.Fatalf("a repeated trend is one item: %+v", ins)
	}
}

// An incident recorded just before a crash, its action never applied, acts when the watcher starts.
func TestOpenIncidentsAreAppliedAtStart(t *testing.T) {
	e := newEnv(t, envOpts{})
	travel, _ := e.campaign(t, "summer-flights", []string{"travel"}, false, "Fly away")
	if _, _, err := e.st.RecordIncident(ctxBG, &queue.Incident{RuleID: "air-disaster", Action: "pause", ClosesAt: time.Now().Add(time.Hour),
		Evidence: []queue.Evidence{{Source: "wire", Title: "Plane crash"}}}); err != nil {
		t.Fatal(err)
	}
	e.run(t)
	waitFor(t, "the pause at start", func() bool { return e.campaignState(t, travel.ID).State == queue.CampaignPaused })
	if c := e.campaignState(t, travel.ID); c.Pause.RuleID != "air-disaster" || len(c.Pause.Evidence) != 1 {
		t.Fatalf("pause: %+v", c.Pause)
	}
}

// faultyStore is the real store with chosen writes failing, as when another process holds
// the database lock for longer than the busy timeout.
type faultyStore struct {
	*sqlite.DB
	failRecord, failApply atomic.Int64
}

var errLocked = queue.Errorf(queue.Unavailable, "", "database is locked by another process")

func (f *faultyStore) RecordIncident(ctx context.Context, in *queue.Incident) (*queue.Incident, bool, error) {
	if f.failRecord.Add(-1) >= 0 {
		return nil, false, errLocked
	}
	return f.DB.RecordIncident(ctx, in)
}

func (f *faultyStore) ApplyIncident(ctx context.Context, id int64, a queue.IncidentAction) (queue.IncidentEffect, error) {
	if f.failApply.Add(-1) >= 0 {
		return queue.IncidentEffect{}, errLocked
	}
	return f.DB.ApplyIncident(ctx, id, a)
}

// A failure after an item is stored must not lose its match: it is retried.
func TestFailedMatchingIsRetried(t *testing.T) {
	for _, which := range []string{"record", "apply"} {
		t.Run(which, func(t *testing.T) {
			start := time.Now().UTC()
			clk := clock.NewFake(start)
			var fs *faultyStore
			e := newEnv(t, envOpts{clock: clk, opt: func(o *watch.Options) {
				fs = &faultyStore{DB: o.Store.(*sqlite.DB)}
				o.Store = fs
			}})
			travel, _ := e.campaign(t, "summer-flights", []string{"travel"}, false, "Fly away")
			e.run(t)
			if which == "record" {
				fs.failRecord.Store(1)
			} else {
				fs.failApply.Store(1)
			}
			if _, _, err := e.w.Push(ctxBG, &queue.ContextItem{Source: "wire", Title: "Plane crash at sea"}); err == nil || !contains(err.Error(), "locked") {
				t.Fatalf("push during the failure: %v", err)
			}
			if e.campaignState(t, travel.ID).State != queue.CampaignActive {
				t.Fatal("paused despite the failure")
			}
			// The retry comes within 10s, without any new item.
			done := make(chan struct{})
			defer close(done)
			if !clk.WaitForTimer(done, func(d time.Time) bool { return !d.After(start.Add(10 * time.Second)) }) {
				t.Fatal("no retry timer")
			}
			clk.Advance(10 * time.Second)
			waitFor(t, "the retried pause", func() bool { return e.campaignState(t, travel.ID).State == queue.CampaignPaused })
			if ins := e.open(t); len(ins) != 1 || len(ins[0].Evidence) != 1 {
				t.Fatalf("incidents: %+v", ins)
			}
		})
	}
}

// A reload that removes a rule does not lift the incidents it opened: the gate keeps using
// the rule as it was loaded.
func TestGateKeepsRemovedRuleUntilItsIncidentEnds(t *testing.T) {
	e := newEnv(t, envOpts{rules: []string{"air.toml"}})
	travel, posts := e.campaign(t, "summer-flights", []string{"travel"}, true, "Fly away")
	in, err := e.w.Declare(ctxBG, queue.Actor{Kind: queue.ActorUser, Name: "ann"}, "air-disaster", "Plane crash reported")
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, "testdata/rules/storm.toml", filepath.Join(e.dir, "air.toml"))
	if err := e.rules.Reload(ctxBG); err != nil || e.rules.Set().Rule("air-disaster") != nil {
		t.Fatalf("reload: %v", err)
	}
	open := e.open(t)
	if reason, hold := e.w.Gate()(travel, posts[0], open); reason != "rule air-disaster: Plane crash reported" || hold {
		t.Fatalf("gate after the rule was removed: %q %v", reason, hold)
	}
	if ws := e.w.PostWarnings(ctxBG, travel, posts[0]); len(ws) != 1 || !contains(ws[0], fmt.Sprintf("Incident #%d", in.ID)) {
		t.Fatalf("warnings: %q", ws)
	}
}

package watch_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/daemon/watch"
)

// Post texts for the benchmark queue: mostly unrelated, some travel wording.
var benchTexts = []string{
	"Our autumn collection is here: wool coats from €89",
	"Five recipes for a cosy Sunday dinner",
	"New in store: handmade ceramic mugs",
	"Save 20%% on running shoes this weekend only (offer %d)",
	"Meet the team behind our new coffee blend",
	"Live Q&A with our designers on Thursday at 6pm",
	"Back to school: notebooks and pens, 3 for 2",
	"How we source our cotton, explained in 60 seconds",
}

// BenchmarkIncidentToPaused measures SPEC 9's scale: 100,000 queued posts in 1,000
// campaigns on a real SQLite file, 1,000 rules in force (the default pack and synthetic ones). One op is a crash
// headline pushed in, from the moment it arrives until its incident is recorded, the whole
// queue is matched, every matching campaign is paused and matching posts of other campaigns
// are held, all committed (Push returns). The metric paused_ms is the part that matters
// most: from the push until every matching campaign's pause is committed (the watcher
// notifies right after that commit). Each op starts from an identical copy of the database.
func BenchmarkIncidentToPaused(b *testing.B) {
	const campaigns, perCampaign = 1000, 100
	dir := b.TempDir()
	master := filepath.Join(dir, "master.db")
	travel := 0
	func() {
		db, err := sqlite.Open(ctxBG, master)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		var posts []*queue.Post
		due := time.Now().Add(24 * time.Hour)
		for i := range campaigns {
			topics := []string{"fashion", "promotion"}
			if i%10 == 0 {
				topics = []string{"travel", "promotion"}
				travel++
			}
			c := &queue.Campaign{Name: fmt.Sprintf("campaign-%04d", i), Accounts: []string{"brand"}, Topics: topics}
			if err := db.CreateCampaign(ctxBG, queue.System("bench"), c); err != nil {
				b.Fatal(err)
			}
			for j := range perCampaign {
				text := fmt.Sprintf(benchTexts[(i+j)%len(benchTexts)], j)
				if i%10 != 0 && j == 0 && i%3 == 0 {
					text = "Fly to the autumn sales in Milan: our buyers' picks" // a text clash in a non-travel campaign
				}
				posts = append(posts, &queue.Post{CampaignID: c.ID, Text: text, DueAt: due.Add(time.Duration(j) * time.Minute)})
			}
		}
		if err := db.CreatePosts(ctxBG, queue.System("bench"), posts); err != nil {
			b.Fatal(err)
		}
	}()
	// The default pack plus synthetic rules up to SPEC 9's 1,000 rules.
	rulesDir := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rulesDir, 0o755); err != nil {
		b.Fatal(err)
	}
	pack, err := filepath.Glob(filepath.Join("..", "..", "rules", "default", "*.toml"))
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range pack {
		if !strings.HasSuffix(f, ".test.toml") {
			copyFile(b, f, filepath.Join(rulesDir, filepath.Base(f)))
		}
	}
	var synth strings.Builder
	for i := range 985 {
		fmt.Fprintf(&synth, "[[rule]]\nid = \"synthetic-%d\"\naction = \"pause\"\n[rule.news]\nany = [\"zorblax %d outbreak\", \"quuxite %d spill\"]\n[rule.posts]\ntopics = [\"topic-%d\"]\nany = [\"gizmo %d\"]\n\n", i, i, i, i, i)
	}
	writeFile(b, filepath.Join(rulesDir, "synthetic.toml"), []byte(synth.String()))
	glob := filepath.Join(rulesDir, "*.toml")
	b.ResetTimer()
	b.StopTimer()
	var paused, held int
	var toPaused time.Duration
	for i := range b.N {
		path := filepath.Join(dir, fmt.Sprintf("run-%d.db", i))
		copyDB(b, master, path)
		st, err := sqlite.Open(ctxBG, path)
		if err != nil {
			b.Fatal(err)
		}
		rs, err := watch.NewRules(ctxBG, []string{glob}, watch.RulesOptions{Store: st, Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		var start, pausedAt time.Time
		n := notifyFunc(func(e notify.Event) {
			if e.Kind == notify.CampaignPaused && pausedAt.IsZero() {
				pausedAt = time.Now()
			}
		})
		w, err := watch.New(watch.Options{Store: st, Rules: rs, Logger: quiet(), Notifier: n})
		if err != nil {
			b.Fatal(err)
		}
		item := &queue.ContextItem{Source: "wire", Title: "Airliner with 242 aboard crashes after take-off in Ahmedabad", Language: "en"}

		b.StartTimer()
		start = time.Now()
		_, incs, err := w.Push(ctxBG, item)
		b.StopTimer()
		toPaused += pausedAt.Sub(start)

		if len(rs.Set().Rules()) < 1000 {
			b.Fatalf("%d rules", len(rs.Set().Rules()))
		}
		if err != nil || len(incs) != 1 || incs[0].RuleID != "air-disaster" {
			b.Fatalf("push: %+v %v", incs, err)
		}
		cs, err := st.Campaigns(ctxBG, queue.CampaignFilter{State: queue.CampaignPaused})
		if err != nil {
			b.Fatal(err)
		}
		counts, err := st.CountPosts(ctxBG)
		if err != nil {
			b.Fatal(err)
		}
		paused, held = len(cs), counts[queue.PostHeld]
		if paused != travel || held == 0 {
			b.Fatalf("paused %d campaigns (want %d), held %d posts", paused, travel, held)
		}
		st.Close()
		os.Remove(path)
	}
	b.ReportMetric(float64(toPaused.Milliseconds())/float64(b.N), "paused_ms")
	b.ReportMetric(float64(paused), "campaigns_paused")
	b.ReportMetric(float64(held), "posts_held")
}

// notifyFunc observes the watcher's notifications in process, to time them.
type notifyFunc func(notify.Event)

func (f notifyFunc) Notify(_ context.Context, e notify.Event) { f(e) }

func copyDB(b *testing.B, from, to string) {
	for _, suffix := range []string{"", "-wal"} {
		src, err := os.Open(from + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		dst, err := os.Create(to + suffix)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			b.Fatal(err)
		}
		src.Close()
		dst.Close()
	}
}

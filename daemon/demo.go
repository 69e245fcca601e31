package daemon

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon/queue"
	defaultrules "github.com/tact-hq/tact/rules/default"
)

//go:embed demodata/*.xml
var demoData embed.FS

// Demo is the self-contained demo of SPEC section 10: a temporary data dir, the outbox
// plugin, a travel campaign and an unrelated one with queued posts, the default rules, and
// a local news feed that gains a crash headline after NewsAfter.
type Demo struct {
	Dir       string
	NewsAfter time.Duration
	feedPath  string
}

// NewDemo prepares the demo's directory (rules, news feed) and returns its configuration.
// listen is the address to try first (a free port is taken if it is busy).
func NewDemo(listen string, newsAfter time.Duration) (*config.Config, *Demo, error) {
	dir, err := os.MkdirTemp("", "tact-demo-")
	if err != nil {
		return nil, nil, err
	}
	rulesDir := filepath.Join(dir, "rules.d")
	if err := os.MkdirAll(rulesDir, 0o700); err != nil {
		return nil, nil, err
	}
	// The default pack, as an admin would install it into rules.d.
	err = fs.WalkDir(defaultrules.FS, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(defaultrules.FS, path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(rulesDir, filepath.Base(path)), b, 0o600)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("installing the default rules: %w", err)
	}
	demo := &Demo{Dir: dir, NewsAfter: newsAfter, feedPath: filepath.Join(dir, "news.xml")}
	if err := demo.writeNews("demodata/news-calm.xml"); err != nil {
		return nil, nil, err
	}

	cfg := config.Default()
	cfg.Daemon.DataDir = filepath.Join(dir, "data")
	cfg.Daemon.Listen = listen
	cfg.Daemon.PluginDir = filepath.Join(dir, "plugins")
	cfg.Daemon.Rules = []string{filepath.Join(rulesDir, "*.toml")}
	cfg.Daemon.TimeZone = "UTC"
	cfg.Accounts = []config.Account{{
		Name: "demo-outbox", Plugin: "outbox", Concurrency: 1,
		Spacing:  config.Duration{Duration: 2 * time.Second},
		Settings: map[string]string{"path": filepath.Join(dir, "outbox.jsonl")},
	}}
	cfg.Feeds = []config.Feed{{
		Name: "demo-news", URL: "file://" + demo.feedPath, Language: "en",
		Every:   config.Duration{Duration: 2 * time.Second},
		Timeout: config.Duration{Duration: 5 * time.Second},
	}}
	return cfg, demo, nil
}

func (d *Demo) writeNews(name string) error {
	b, err := demoData.ReadFile(name)
	if err != nil {
		return err
	}
	// Write then rename, so the feed poller never reads half a file.
	tmp := d.feedPath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.feedPath)
}

// seed creates the demo campaigns and posts, relative to now.
func (d *Demo) seed(ctx context.Context, st queue.Store, now time.Time) error {
	by := queue.System("demo")
	flights := &queue.Campaign{Name: "summer-flights", Accounts: []string{"demo-outbox"},
		Topics: []string{"travel", "air-travel", "promotion"}, TimeZone: "UTC", Approval: queue.ApprovalRequired}
	knitting := &queue.Campaign{Name: "knitting-club", Accounts: []string{"demo-outbox"},
		Topics: []string{"crafts", "knitting"}, TimeZone: "UTC", Approval: queue.ApprovalRequired}
	for _, c := range []*queue.Campaign{flights, knitting} {
		if err := st.CreateCampaign(ctx, by, c); err != nil {
			return err
		}
	}
	posts := []struct {
		c       *queue.Campaign
		text    string
		in      time.Duration
		approve bool
	}{
		{flights, "✈️ Fly to Lisbon this summer from €49. Book by Sunday!", 10 * time.Second, true},
		{knitting, "New pattern of the week: a chunky winter scarf in two evenings 🧶", 20 * time.Second, true},
		{flights, "Weekend getaway: Porto from €39 return. Seats are limited!", d.NewsAfter + 40*time.Second, true},
		{knitting, "Join our Thursday knit-along: bring your needles and a friend.", d.NewsAfter + 45*time.Second, true},
		{flights, "Early birds fly cheaper: 20% off all autumn flights to the islands.", 2 * time.Hour, false},
		{knitting, "Which wool for a first sweater? Our guide for beginners.", 3 * time.Hour, false},
	}
	for _, p := range posts {
		post := &queue.Post{CampaignID: p.c.ID, Text: p.text, DueAt: now.Add(p.in).UTC(), State: queue.PostPending}
		if err := st.CreatePost(ctx, by, post); err != nil {
			return err
		}
		if p.approve {
			if _, err := st.Apply(ctx, by, post.ID, 0, queue.EventApprove, "approved by the demo"); err != nil {
				return err
			}
		}
	}
	return nil
}

// run plays the demo's story: after NewsAfter the news feed gains a crash headline.
func (d *Demo) run(ctx context.Context, log *slog.Logger) {
	t := time.NewTimer(d.NewsAfter)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	if err := d.writeNews("demodata/news-crash.xml"); err != nil {
		log.Error("demo: cannot update the news feed", "err", err)
		return
	}
	log.Info("demo: the news feed now leads with an air crash; watch summer-flights get paused", "feed", d.feedPath)
}

func (d *Demo) banner(w io.Writer, addr, token string) {
	fmt.Fprintf(w, `
tact demo is running.

  Web UI:       http://%s/
  Login token:  %s
  CLI:          export TACT_SERVER=http://%s TACT_TOKEN=%s
                bin/tactctl queue
  Published:    %s   (one JSON line per post)
  News feed:    %s   (gains a crash headline in %s)

Press Ctrl-C to stop. Demo data lives in %s and is yours to remove.

`, addr, token, addr, token, filepath.Join(d.Dir, "outbox.jsonl"), d.feedPath, d.NewsAfter, d.Dir)
}

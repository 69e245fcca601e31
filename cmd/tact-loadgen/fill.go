package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// fillOptions is what `tact-loadgen fill` makes.
type fillOptions struct {
	Data      string
	Posts     int
	Campaigns int
	Rules     int
	Accounts  int
	Feeds     int
	Approve   float64 // share of the posts a person approves
	Seed      uint64
}

// The accounts' minimum spacing in the generated tact.toml: short, so that the stream of
// posts due during a run (one per account every few seconds) is never held back by it.
const accountSpacing = "1s"

// streamCampaign is the campaign whose posts fall due during a run (see stream.go).
const streamCampaign = "loadgen-stream"

func fillCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("tact-loadgen fill", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o fillOptions
	fl.StringVar(&o.Data, "data", "", "data directory to fill (must not hold a tact.db yet)")
	fl.IntVar(&o.Posts, "posts", 100000, "queued posts (pending and approved), due over the next 14 days")
	fl.IntVar(&o.Campaigns, "campaigns", 1000, "campaigns")
	fl.IntVar(&o.Rules, "rules", 1000, "generated rule files (one rule each)")
	fl.IntVar(&o.Accounts, "accounts", 100, "outbox accounts in tact.toml")
	fl.IntVar(&o.Feeds, "feeds", 100, "local file:// news feeds in tact.toml (calm news: no rule fires)")
	fl.Float64Var(&o.Approve, "approve", 0.25, "share of the posts approved one by one, as a person would")
	fl.Uint64Var(&o.Seed, "seed", 1, "random seed (the same seed makes the same data)")
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	if o.Data == "" || fl.NArg() > 0 {
		return fmt.Errorf("%w: fill needs --data DIR and no other arguments", errUsage)
	}
	if o.Posts < 0 || o.Campaigns < 1 || o.Rules < 1 || o.Accounts < 1 || o.Feeds < 0 || o.Approve < 0 || o.Approve > 1 {
		return fmt.Errorf("%w: --campaigns, --rules and --accounts must be at least 1, --posts and --feeds not negative, --approve within 0..1", errUsage)
	}
	return fill(ctx, o, stdout)
}

// fill writes tact.toml, the rule files and the feeds, and fills tact.db through the
// daemon's own store (daemon/sqlite), as the API would: campaigns, then posts in batches,
// then one approval per approved post.
func fill(ctx context.Context, o fillOptions, stdout io.Writer) error {
	start := time.Now()
	data, err := filepath.Abs(o.Data)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(data, "tact.db")); err == nil {
		return fmt.Errorf("%s already holds a tact.db: fill an empty directory (or remove it)", data)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x7ac7))
	if err := writeSetup(data, o, rng); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s, %d rule files, %d feeds\n", filepath.Join(data, "tact.toml"), o.Rules, o.Feeds)

	db, err := sqlite.Open(ctx, filepath.Join(data, "tact.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	accounts := accountNames(o.Accounts)
	camps, err := createCampaigns(ctx, db, rng, o.Campaigns, accounts)
	if err != nil {
		return err
	}
	if _, err := streamCampaignID(ctx, db, accounts); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %d campaigns (+1 for the run's stream) in %s\n", len(camps), time.Since(start).Round(time.Millisecond))

	t := time.Now()
	ids, err := createPosts(ctx, db, rng, o.Posts, camps, t)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %d posts in %s\n", len(ids), time.Since(t).Round(time.Millisecond))

	t = time.Now()
	person := queue.Actor{Kind: queue.ActorUser, Name: "loadgen"}
	n := 0
	for _, id := range ids {
		if rng.Float64() >= o.Approve {
			continue
		}
		if _, err := db.Apply(ctx, person, id, 0, queue.EventApprove, ""); err != nil {
			return fmt.Errorf("approve post %d: %w", id, err)
		}
		n++
	}
	fmt.Fprintf(stdout, "approved %d posts one by one in %s (%.0f commits/s)\n", n, time.Since(t).Round(time.Millisecond),
		float64(n)/time.Since(t).Seconds())
	fmt.Fprintf(stdout, "filled %s in %s\n", data, time.Since(start).Round(time.Millisecond))
	return nil
}

func accountNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("acct-%03d", i)
	}
	return out
}

// createCampaigns makes n campaigns of one to three accounts and one to three topics; one
// in ten is on autopilot.
func createCampaigns(ctx context.Context, db *sqlite.DB, rng *rand.Rand, n int, accounts []string) ([]*queue.Campaign, error) {
	out := make([]*queue.Campaign, 0, n)
	admin := queue.Actor{Kind: queue.ActorUser, Name: "loadgen"}
	for i := range n {
		c := &queue.Campaign{
			Name:     fmt.Sprintf("campaign-%04d", i),
			TimeZone: []string{"Europe/Paris", "Europe/Lisbon", "America/New_York", "Asia/Tokyo", ""}[rng.IntN(5)],
			Approval: queue.ApprovalRequired,
		}
		for range 1 + rng.IntN(3) {
			if a := accounts[rng.IntN(len(accounts))]; !contains(c.Accounts, a) {
				c.Accounts = append(c.Accounts, a)
			}
		}
		for range 1 + rng.IntN(3) {
			if t := topics[rng.IntN(len(topics))]; !contains(c.Topics, t) {
				c.Topics = append(c.Topics, t)
			}
		}
		if rng.IntN(10) == 0 {
			c.Approval, c.Veto = queue.ApprovalAutopilot, queue.Duration(2*time.Hour)
		}
		if err := db.CreateCampaign(ctx, admin, c); err != nil {
			return nil, fmt.Errorf("create campaign %s: %w", c.Name, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// streamCampaignID returns the id of the stream campaign, creating it when missing. Its
// topic is one no rule names.
func streamCampaignID(ctx context.Context, db *sqlite.DB, accounts []string) (int64, error) {
	c, err := db.CampaignByName(ctx, streamCampaign)
	if err == nil {
		return c.ID, nil
	}
	var qe *queue.Error
	if !errors.As(err, &qe) || qe.Kind != queue.NotFound {
		return 0, err
	}
	c = &queue.Campaign{Name: streamCampaign, Accounts: accounts, Topics: []string{"announcements"}, Approval: queue.ApprovalRequired}
	if err := db.CreateCampaign(ctx, queue.Actor{Kind: queue.ActorUser, Name: "loadgen"}, c); err != nil {
		return 0, fmt.Errorf("create campaign %s: %w", streamCampaign, err)
	}
	return c.ID, nil
}

// createPosts stores n pending posts due between one hour and fourteen days from now, in
// batches of 1,000 (one transaction each, as a CSV import would), and returns their ids.
func createPosts(ctx context.Context, db *sqlite.DB, rng *rand.Rand, n int, camps []*queue.Campaign, now time.Time) ([]int64, error) {
	const batch = 1000
	ids := make([]int64, 0, n)
	by := queue.Actor{Kind: queue.ActorUser, Name: "loadgen"}
	for done := 0; done < n; {
		ps := make([]*queue.Post, 0, min(batch, n-done))
		for range cap(ps) {
			c := camps[rng.IntN(len(camps))]
			due := now.Add(time.Hour + time.Duration(rng.Int64N(int64(13*24*time.Hour)))).Truncate(time.Minute).UTC()
			p := &queue.Post{CampaignID: c.ID, Text: postText(rng, done+len(ps)), Accounts: c.Accounts, DueAt: due}
			if rng.IntN(5) == 0 {
				p.Link = fmt.Sprintf("https://shop.example/offers/%d", done+len(ps))
			}
			ps = append(ps, p)
		}
		if err := db.CreatePosts(ctx, by, ps); err != nil {
			return nil, err
		}
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		done += len(ps)
	}
	return ids, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// writeSetup writes tact.toml, rules.d/*.toml, the calm feeds and the outbox directory.
func writeSetup(data string, o fillOptions, rng *rand.Rand) error {
	for _, d := range []string{"rules.d", "feeds", "outbox"} {
		if err := os.MkdirAll(filepath.Join(data, d), 0o700); err != nil {
			return err
		}
	}
	for i := range o.Rules {
		id, body := ruleFile(rng, i)
		if err := os.WriteFile(filepath.Join(data, "rules.d", id+".toml"), []byte(body), 0o600); err != nil {
			return err
		}
	}
	for i := range o.Feeds {
		if err := os.WriteFile(feedPath(data, i), []byte(feedXML(rng, i)), 0o600); err != nil {
			return err
		}
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(data, "tact.toml"), []byte(configTOML(data, data, port, o.Accounts, o.Feeds)), 0o600)
}

func feedPath(data string, i int) string {
	return filepath.Join(data, "feeds", fmt.Sprintf("feed-%03d.xml", i))
}

// feedXML is an RSS 2.0 feed of ten calm headlines.
func feedXML(rng *rand.Rand, i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\n<title>Calm news %03d</title>\n<link>https://news.example/%03d</link>\n<description>Generated by tact-loadgen</description>\n", i, i)
	for j := range 10 {
		at := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i*10+j) * time.Minute)
		fmt.Fprintf(&b, "<item><title>%s</title><link>https://news.example/%03d/%d</link><guid>calm-%03d-%d</guid><pubDate>%s</pubDate></item>\n",
			calmHeadline(rng), i, j, i, j, at.Format(time.RFC1123Z))
	}
	b.WriteString("</channel></rss>\n")
	return b.String()
}

// configTOML is the daemon's configuration for data directory data: the generated rules
// and calm feeds found in setup, and accounts on the outbox plugin (one file each, in data).
func configTOML(data, setup string, port, accounts, feeds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by tact-loadgen fill.\n[daemon]\ndata_dir   = %q\nlisten     = \"127.0.0.1:%d\"\nplugin_dir = %q\nrules      = [%q]\ntimezone   = \"Europe/Paris\"\nlog_level  = \"info\"\n",
		data, port, filepath.Join(data, "plugins-external"), filepath.Join(setup, "rules.d", "*.toml"))
	for _, a := range accountNames(accounts) {
		fmt.Fprintf(&b, "\n[[account]]\nname    = %q\nplugin  = \"outbox\"\nspacing = %q\n[account.settings]\npath = %q\n",
			a, accountSpacing, filepath.Join(data, "outbox", a+".jsonl"))
	}
	for i := range feeds {
		fmt.Fprintf(&b, "\n[[feed]]\nname     = \"calm-%03d\"\nurl      = %q\nevery    = \"30s\"\nlanguage = \"en\"\n", i, "file://"+feedPath(setup, i))
	}
	return b.String()
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

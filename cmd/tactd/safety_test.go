package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A short-window air rule, so the incident closes within the test.
const shortAirRule = `
[[rule]]
id          = "air-disaster"
description = "No travel promotion while an air disaster is in the news."
action      = "pause"
window      = "3s"
resume      = "manual"

[rule.news]
any = ["plane crash", "air crash", "airliner", "crashes"]
not = ["crash course", "stock market crash"]

[rule.posts]
topics = ["travel", "air-travel"]
any    = ["flight", "fly"]
`

const calmFeed = `<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>
<item><title>Council approves cycling lanes</title><link>http://news.test/1</link><guid>1</guid></item>
</channel></rss>`

const crashFeed = `<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>
<item><title>Airliner with 180 aboard crashes near Lisbon</title><link>http://news.test/2</link><guid>2</guid></item>
<item><title>Council approves cycling lanes</title><link>http://news.test/1</link><guid>1</guid></item>
</channel></rss>`

func writeAtomically(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// TestFeedHeadlinePausesTravelCampaign is the safety story end to end: a feed file gains a
// crash headline; the travel campaign is paused within a poll with the headline as evidence;
// its due post is never published while an unrelated campaign keeps publishing; once the
// incident closes and a person resumes, the post (still within `late`) goes out once.
func TestFeedHeadlinePausesTravelCampaign(t *testing.T) {
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, "rules.d")
	os.MkdirAll(rulesDir, 0o700)
	os.WriteFile(filepath.Join(rulesDir, "air.toml"), []byte(shortAirRule), 0o600)
	feed := filepath.Join(dir, "news.xml")
	writeAtomically(t, feed, calmFeed)

	cfg := `
[daemon]
data_dir  = "DATA/data"
listen    = "127.0.0.1:0"
rules     = ["DATA/rules.d/*.toml"]
log_level = "debug"

[[account]]
name    = "brand"
plugin  = "outbox"
spacing = "1ms"
[account.settings]
path = "DATA/outbox.jsonl"

[[feed]]
name  = "local-news"
url   = "file://DATA/news.xml"
every = "1s"
`
	d := startDaemon(t, dir, cfg)
	d.ctl(t, "campaign", "create", "flights", "--account", "brand", "--topic", "travel")
	d.ctl(t, "campaign", "create", "knits", "--account", "brand", "--topic", "crafts")

	writeAtomically(t, feed, crashFeed)
	var camp struct {
		State string `json:"state"`
		Pause *struct {
			RuleID   string `json:"rule_id"`
			Evidence []struct {
				Title string `json:"title"`
				URL   string `json:"url"`
			} `json:"evidence"`
		} `json:"pause"`
	}
	eventually(t, 15*time.Second, "the travel campaign to be paused by the rule", func() bool {
		d.api(t, "GET", "/api/v1/campaigns/flights", nil, &camp)
		return camp.State == "paused"
	})
	if camp.Pause == nil || camp.Pause.RuleID != "air-disaster" || len(camp.Pause.Evidence) == 0 ||
		!strings.Contains(camp.Pause.Evidence[0].Title, "Airliner with 180 aboard crashes") || camp.Pause.Evidence[0].URL != "http://news.test/2" {
		t.Fatalf("pause without the rule and headline as evidence: %+v", camp.Pause)
	}
	var knits struct{ State string }
	d.api(t, "GET", "/api/v1/campaigns/knits", nil, &knits)
	if knits.State != "active" {
		t.Fatalf("the unrelated campaign is %s", knits.State)
	}

	due := time.Now().Add(4 * time.Second)
	flight := d.createPost(t, "flights", "Fly to Lisbon from €49", due)
	knit := d.createPost(t, "knits", "Scarf pattern of the week", due.Add(time.Second))
	d.ctl(t, "approve", fmt.Sprint(flight), fmt.Sprint(knit))
	eventually(t, 30*time.Second, "the unrelated campaign to keep publishing", func() bool {
		return d.post(t, knit).State == "published"
	})
	outbox := filepath.Join(dir, "outbox.jsonl")
	if n := countText(outboxLines(t, outbox), "Fly to Lisbon from €49"); n != 0 {
		t.Fatal("the paused campaign's due post was published")
	}

	// The incident closes 3s after its latest item (resume = manual: still paused).
	eventually(t, 20*time.Second, "the incident to close", func() bool {
		var list struct {
			Items []struct{ State string } `json:"items"`
		}
		d.api(t, "GET", "/api/v1/incidents?state=open", nil, &list)
		return len(list.Items) == 0
	})
	d.api(t, "GET", "/api/v1/campaigns/flights", nil, &camp)
	if camp.State != "paused" {
		t.Fatalf("resume = manual, yet the campaign is %s after the incident closed", camp.State)
	}
	d.ctl(t, "campaign", "resume", "flights")
	eventually(t, 30*time.Second, "the resumed post to go out", func() bool {
		return d.post(t, flight).State == "published"
	})
	if n := countText(outboxLines(t, outbox), "Fly to Lisbon from €49"); n != 1 {
		t.Fatalf("published %d times after resume, want once", n)
	}
}

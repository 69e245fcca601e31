package rules

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// corpusPath is the shared clash corpus, relative to this package's directory.
const corpusPath = "../../shared/corpus/clash_dev.jsonl"

type corpusCase struct {
	ID       string `json:"id"`
	Lang     string `json:"lang"`
	Post     string `json:"post"`
	Topic    string `json:"campaign_topic"`
	Headline string `json:"headline"`
	Summary  string `json:"summary"`
	Expect   string `json:"expect"`
	Category string `json:"category"`
	Notes    string `json:"notes"`
}

// toCase builds a rule-test case exactly as the corpus README says: news = headline, then
// ". " and the summary when there is one; topics = the campaign topic lower-cased with
// spaces turned into hyphens, then each of its words; expect ["*"] for clash, [] for ok.
func (c corpusCase) toCase() Case {
	news := c.Headline
	if c.Summary != "" {
		news += ". " + c.Summary
	}
	topic := strings.ToLower(c.Topic)
	topics := []string{strings.ReplaceAll(topic, " ", "-")}
	topics = append(topics, strings.Fields(topic)...)
	expect := []string{}
	if c.Expect == "clash" {
		expect = []string{"*"}
	}
	return Case{Name: c.ID, News: news, Post: c.Post, Topics: topics, Expect: expect, File: corpusPath}
}

func readCorpus(t *testing.T) []corpusCase {
	t.Helper()
	f, err := os.Open(corpusPath)
	if os.IsNotExist(err) {
		t.Skipf("corpus %s not present", corpusPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c corpusCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("corpus line: %v", err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// naiveFires is the baseline: case-insensitive substring matching of the same terms
// (news any/all/with, posts topics/any), no stemming, no not/unless, no shared names.
func naiveFires(set *Set, c Case) bool {
	news := strings.ToLower(c.News)
	post := strings.ToLower(c.Post)
	topics := strings.ToLower(strings.Join(c.Topics, " "))
	has := func(text string, terms []string) bool {
		for _, t := range terms {
			if strings.Contains(text, strings.ToLower(t)) {
				return true
			}
		}
		return false
	}
	for _, r := range set.Rules() {
		if !has(news, r.News.Any) {
			continue
		}
		if len(r.News.With) > 0 && !has(news, r.News.With) {
			continue
		}
		allOK := true
		for _, a := range r.News.All {
			if !strings.Contains(news, strings.ToLower(a)) {
				allOK = false
			}
		}
		if !allOK {
			continue
		}
		if has(post, r.Posts.Any) || has(topics, r.Posts.Topics) {
			return true
		}
	}
	return false
}

type prCount struct{ tp, fp, fn, tn int }

func (c *prCount) add(clash, fired bool) {
	switch {
	case clash && fired:
		c.tp++
	case clash:
		c.fn++
	case fired:
		c.fp++
	default:
		c.tn++
	}
}

func (c prCount) precision() float64 {
	if c.tp+c.fp == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fp)
}

func (c prCount) recall() float64 {
	if c.tp+c.fn == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fn)
}

// TestCorpusDefaultPack runs the clash corpus through the default pack, as the project
// is judged, and compares it with a naive substring baseline over the same terms.
func TestCorpusDefaultPack(t *testing.T) {
	cases := readCorpus(t)
	set, err := LoadFiles([]string{"default/*.toml"})
	if err != nil {
		t.Fatal(err)
	}
	pack := map[string]*prCount{"all": {}, "en": {}, "fr": {}, "mixed": {}}
	naive := map[string]*prCount{"all": {}, "en": {}, "fr": {}, "mixed": {}}
	for _, cc := range cases {
		c := cc.toCase()
		res := set.RunCase(c)
		fired := len(res.Fired) > 0
		clash := cc.Expect == "clash"
		pack["all"].add(clash, fired)
		pack[cc.Lang].add(clash, fired)
		nf := naiveFires(set, c)
		naive["all"].add(clash, nf)
		naive[cc.Lang].add(clash, nf)
		switch {
		case !res.Passed:
			t.Logf("MISS %s (%s, %s) expect=%s fired=%v: %s", cc.ID, cc.Lang, cc.Category, cc.Expect, res.Fired, res.Why)
		case os.Getenv("TACT_CORPUS_VERBOSE") != "" && clash:
			t.Logf("ok   %s: %s", cc.ID, res.Why)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-6s | %-28s | %-28s\n", "lang", "default pack P / R (tp fp fn)", "naive substring P / R (tp fp fn)")
	for _, l := range []string{"en", "fr", "mixed", "all"} {
		p, n := pack[l], naive[l]
		fmt.Fprintf(&b, "%-6s | %.2f / %.2f (%2d %2d %2d)       | %.2f / %.2f (%2d %2d %2d)\n", l,
			p.precision(), p.recall(), p.tp, p.fp, p.fn, n.precision(), n.recall(), n.tp, n.fp, n.fn)
	}
	t.Log(b.String())
	for _, l := range []string{"en", "fr"} {
		p := pack[l]
		if p.recall() < 0.95 || p.precision() < 0.90 {
			t.Errorf("%s: precision %.2f recall %.2f; targets are precision >= 0.90 and recall >= 0.95", l, p.precision(), p.recall())
		}
	}
}

// TestCorpusQuietNewsNeverFires pairs every corpus item whose news is no disaster
// (category "none") with every post of the corpus: nothing may fire, whatever the post.
func TestCorpusQuietNewsNeverFires(t *testing.T) {
	cases := readCorpus(t)
	set, err := LoadFiles([]string{"default/*.toml"})
	if err != nil {
		t.Fatal(err)
	}
	pairs := 0
	for _, n := range cases {
		if n.Category != "none" {
			continue
		}
		for _, p := range cases {
			c := p.toCase()
			c.News = n.toCase().News
			c.Expect = []string{}
			pairs++
			if res := set.RunCase(c); !res.Passed {
				t.Errorf("news %s with post %s fired %v: %s", n.ID, p.ID, res.Fired, res.Why)
			}
		}
	}
	if pairs == 0 {
		t.Fatal("no quiet news in the corpus")
	}
}

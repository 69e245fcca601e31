package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuality prints the precision and recall of the default pack per language on the
// project's labelled cases (rules/testdata/quality-*.test.toml and generalisation.test.toml),
// next to the naive baseline measured in the same run (naiveFires: case-insensitive
// substring search of each rule's own terms; see docs/performance.md). It fails only on a
// broken case file, never on the figures: `make quality` shows them.
func TestQuality(t *testing.T) {
	set := loadDefault(t)
	files, _ := filepath.Glob("testdata/quality-*.test.toml")
	files = append(files, "testdata/generalisation.test.toml")
	contents := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		contents[f] = b
	}
	parsed, err := ParseTests(contents, set)
	if err != nil {
		t.Fatalf("a quality case file is broken: %v", err)
	}
	langs := []string{"en", "fr", "mixed", "all"}
	pack := map[string]*prCount{}
	naive := map[string]*prCount{}
	for _, l := range langs {
		pack[l], naive[l] = &prCount{}, &prCount{}
	}
	for _, c := range parsed {
		r := set.RunCase(c)
		lang := c.Lang
		if lang == "" {
			lang = caseLang(c)
		}
		clash := len(c.Expect) > 0
		fired := len(r.Fired) > 0
		nf := naiveFires(set, c)
		for _, l := range []string{lang, "all"} {
			pack[l].add(clash, fired)
			naive[l].add(clash, nf)
		}
		if testing.Verbose() && clash != fired {
			t.Logf("MISS %s: %s (expect clash=%v, fired %v) %s", filepath.Base(r.File), r.Name, clash, r.Fired, r.Why)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d cases (%s)\n", len(parsed), strings.Join(files, ", "))
	fmt.Fprintf(&b, "%-6s | %-40s | %-40s\n", "lang", "default pack: P / R (tp fp fn), false pauses", "naive substring: P / R (tp fp fn), false pauses")
	for _, l := range langs {
		p, n := pack[l], naive[l]
		fmt.Fprintf(&b, "%-6s | %.2f / %.2f (%3d %3d %3d), %3d               | %.2f / %.2f (%3d %3d %3d), %3d\n", l,
			p.precision(), p.recall(), p.tp, p.fp, p.fn, p.fp, n.precision(), n.recall(), n.tp, n.fp, n.fn, n.fp)
	}
	t.Log(b.String())
}

// caseLang labels a case without a lang field (generalisation.test.toml) by the function
// words of its news and post: the same language on both sides, or "mixed".
func caseLang(c Case) string {
	name := func(text string) string {
		l, _ := cueLanguage(tokenize(text))
		if l == langFR {
			return "fr"
		}
		return "en"
	}
	n, p := name(c.News), name(c.Post)
	if n != p {
		return "mixed"
	}
	return n
}

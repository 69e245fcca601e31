package rules

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes to Parse as a rule file. It must never panic; a refusal
// lists problems that each name the file and a line inside it; an accepted set is usable:
// its rules are all there, and matching any text against it works.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`[[rule]]
id = "r"
action = "pause"
[rule.news]
any = ["plane crash"]
[rule.posts]
topics = ["travel"]
`))
	f.Add([]byte("[[rule]]\nid = \"Bad ID\"\naction = \"explode\"\nwindow = \"-1h\"\n[rule.news]\nany = [\"!!!\"]\n"))
	f.Add([]byte("[[alias]]\nnames = [\"Brussels\", \"Bruxelles\"]\n"))
	f.Add([]byte("[[rule]\nid = "))
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.toml"
		set, err := Parse(map[string][]byte{name: data})
		if err != nil {
			if set != nil {
				t.Fatalf("Parse returned a set and an error: %v", err)
			}
			errs, ok := err.(*Errors)
			if !ok {
				t.Fatalf("Parse error is %T, want *Errors: %v", err, err)
			}
			if len(errs.List) == 0 {
				t.Fatalf("Parse refused the file with an empty error list")
			}
			lines := strings.Count(string(data), "\n") + 1
			for _, e := range errs.List {
				if e.File != name || e.Msg == "" {
					t.Fatalf("problem without file or message: %+v", e)
				}
				if e.Line < 1 || e.Line > lines {
					t.Fatalf("problem %q has line %d; the file has %d lines", e.String(), e.Line, lines)
				}
			}
			return
		}
		ids := set.IDs()
		if len(ids) != set.Len() {
			t.Fatalf("IDs() has %d ids for %d rules", len(ids), set.Len())
		}
		for _, r := range set.Rules() {
			if set.Rule(r.ID) != r {
				t.Fatalf("rule %q is not found by its id", r.ID)
			}
			if r.File != name || r.Line < 1 {
				t.Fatalf("rule %q has no place: %s:%d", r.ID, r.File, r.Line)
			}
			for _, phrase := range r.News.Any {
				_ = set.MatchNews(Text{Title: phrase})
				_ = set.Evaluate(Text{Title: phrase, Language: "en"}, PostInput{Text: phrase, Topics: r.Posts.Topics})
			}
			if _, ok := set.MatchPost(r, PostInput{Topics: r.Posts.Topics}, nil); !ok && len(r.Posts.Topics) > 0 && len(r.Posts.Unless) == 0 && len(r.Posts.Not) == 0 {
				// A campaign with exactly the rule's topics clashes with it.
				t.Fatalf("rule %q does not match a campaign with its own topics %q", r.ID, r.Posts.Topics)
			}
		}
	})
}

var (
	defaultSetOnce sync.Once
	defaultSet     *Set
	defaultSetErr  error
)

// FuzzMatch runs the matcher over arbitrary text and language with the default rule pack
// in force. It must never panic; matching is deterministic; normalisation (fold) is
// idempotent, and a word of the text, once tokenised, tokenises to itself.
func FuzzMatch(f *testing.F) {
	f.Add("Jetliner with 242 aboard crashes after take-off in Ahmedabad", "en")
	f.Add("Un avion s'est écrasé près de Lyon", "fr")
	f.Add("#SummerInLondon 🔥💥 Manchester's l'avion aujourd'hui", "")
	f.Add("ÉCRASÉ Œuvre straße ﬁnal ǅemal İstanbul", "de")
	f.Add("crash course; stock market crash! crashpad", "en")
	f.Add("\xff\xfe broken utf8 \x00", "xx")
	f.Fuzz(func(t *testing.T, text, language string) {
		defaultSetOnce.Do(func() {
			files, err := filepath.Glob(filepath.Join("default", "*.toml"))
			if err != nil {
				defaultSetErr = err
				return
			}
			contents := map[string][]byte{}
			for _, p := range files {
				if IsTestFile(p) {
					continue
				}
				b, err := os.ReadFile(p)
				if err != nil {
					defaultSetErr = err
					return
				}
				contents[p] = b
			}
			defaultSet, defaultSetErr = Parse(contents)
		})
		if defaultSetErr != nil {
			t.Fatal(defaultSetErr)
		}
		for _, tok := range tokenize(text) {
			if again := fold(tok.Word); again != tok.Word {
				t.Fatalf("fold is not idempotent: %q folds to %q, then to %q", tok.Lower, tok.Word, again)
			}
			if tok.Word == "" {
				t.Fatalf("empty token in %q", text)
			}
		}
		if utf8.ValidString(text) {
			if f := fold(text); fold(f) != f {
				t.Fatalf("fold(%q) = %q is not a fixed point: %q", text, f, fold(f))
			}
		}
		n := Text{Title: text, Language: language}
		a, b := defaultSet.MatchNews(n), defaultSet.MatchNews(n)
		if !reflect.DeepEqual(ruleIDs(a), ruleIDs(b)) {
			t.Fatalf("MatchNews is not deterministic: %v then %v", ruleIDs(a), ruleIDs(b))
		}
		for _, m := range a {
			if len(m.Terms) == 0 {
				t.Fatalf("rule %s matched with no terms", m.Rule.ID)
			}
		}
		_ = defaultSet.Evaluate(n, PostInput{Text: text, Topics: []string{"travel", text}, Language: language})
	})
}

func ruleIDs(ms []NewsMatch) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rule.ID)
	}
	return out
}

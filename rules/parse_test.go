package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const validRule = `[[rule]]
id          = "air-disaster"
description = "No travel promotion while an air disaster is in the news."
action      = "pause"
window      = "72h"
resume      = "auto"

[rule.news]
any  = ["plane crash", "crash"]
with = ["plane", "jet"]
not  = ["crash course"]
min_sources = 2

[rule.posts]
topics = ["travel", "air-travel"]
any    = ["flight", "fly"]
shared = ["names"]
`

// mustErrors parses and returns the error list, failing if parsing succeeded.
func mustErrors(t *testing.T, files map[string]string) []string {
	t.Helper()
	in := map[string][]byte{}
	for k, v := range files {
		in[k] = []byte(v)
	}
	set, err := Parse(in)
	if err == nil {
		t.Fatalf("Parse accepted bad input (%d rules)", set.Len())
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, want *rules.Errors: %v", err, err)
	}
	var out []string
	for _, e := range errs.List {
		out = append(out, e.String())
	}
	return out
}

func wantErrors(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.HasPrefix(g, w) || strings.Contains(g, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("no error %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

func TestParseValid(t *testing.T) {
	set, err := Parse(map[string][]byte{"air.toml": []byte(validRule)})
	if err != nil {
		t.Fatal(err)
	}
	r := set.Rule("air-disaster")
	if r == nil || set.Len() != 1 || len(set.Rules()) != 1 {
		t.Fatalf("rule not found: %+v", set.Rules())
	}
	if r.Action != ActionPause || r.Resume != ResumeAuto || r.Window != 72*time.Hour || r.MinSources != 2 {
		t.Errorf("fields: %+v", r)
	}
	if r.File != "air.toml" || r.Line != 1 {
		t.Errorf("position %s:%d, want air.toml:1", r.File, r.Line)
	}
	if len(r.Posts.Shared) != 1 || r.News.Not[0] != "crash course" {
		t.Errorf("sides: %+v %+v", r.News, r.Posts)
	}
}

func TestParseDefaults(t *testing.T) {
	set, err := Parse(map[string][]byte{"a.toml": []byte("[[rule]]\nid = \"a\"\naction = \"flag\"\n[rule.news]\nany = [\"x\"]\n[rule.posts]\nany = [\"y\"]\n")})
	if err != nil {
		t.Fatal(err)
	}
	r := set.Rule("a")
	if r.Window != DefaultWindow || r.Resume != ResumeManual || r.MinSources != 1 {
		t.Errorf("defaults: window %v resume %q min_sources %d", r.Window, r.Resume, r.MinSources)
	}
}

// Every problem in every file is reported at once, each with its file and line.
func TestParseReportsEveryErrorWithLine(t *testing.T) {
	bad := `[[rule]]
id     = "one"
action = "explode"
window = "3 days"
resume = "later"
colour = "red"

[rule.news]
any  = []
anny = ["typo"]
min_sources = 0

[rule.posts]
topic  = ["travel"]
shared = ["places"]

[[rule]]
id = "two"
action = "hold"
window = "-5h"
[rule.news]
any = ["x", "  "]
[rule.posts]
any = ["y"]
`
	got := mustErrors(t, map[string]string{"bad.toml": bad})
	wantErrors(t, got,
		`bad.toml:3: unknown action "explode"`,
		`bad.toml:4: bad window "3 days"`,
		`bad.toml:5: unknown resume "later"`,
		`bad.toml:6: unknown key "rule.colour"`,
		`bad.toml:9: rule "one": news.any is empty`,
		`bad.toml:10: unknown key "rule.news.anny"`,
		`bad.toml:11: min_sources must be 1 or more`,
		`bad.toml:14: unknown key "rule.posts.topic"`,
		`bad.toml:15: unknown shared kind "places"`,
		`bad.toml:20: window "-5h" must be positive`,
		`bad.toml:22: news.any has a phrase with no words`,
	)
}

func TestParseDuplicateIDsAcrossFiles(t *testing.T) {
	got := mustErrors(t, map[string]string{
		"a.toml": validRule,
		"b.toml": "# second file\n\n" + validRule,
	})
	wantErrors(t, got, `b.toml:3: duplicate rule id "air-disaster": already defined at a.toml:1`)
}

func TestParseBadTOMLHasLine(t *testing.T) {
	got := mustErrors(t, map[string]string{"broken.toml": "[[rule]]\nid = \"x\"\naction = pause\n"})
	wantErrors(t, got, "broken.toml:3: invalid TOML")
	got = mustErrors(t, map[string]string{"typed.toml": "[[rule]]\nid = \"x\"\naction = \"pause\"\n[rule.news]\nany = \"crash\"\n"})
	wantErrors(t, got, "typed.toml:5: invalid TOML")
}

func TestParseMissingPieces(t *testing.T) {
	got := mustErrors(t, map[string]string{
		"empty.toml":  "# nothing here\n",
		"noside.toml": "[[rule]]\nid = \"x\"\naction = \"pause\"\n",
		"nopost.toml": "[[rule]]\nid = \"y\"\naction = \"pause\"\n[rule.news]\nany = [\"a\"]\n[rule.posts]\nnot = [\"b\"]\n",
		"badid.toml":  "[[rule]]\nid = \"Bad Id\"\naction = \"pause\"\n[rule.news]\nany = [\"a\"]\n[rule.posts]\nany = [\"b\"]\n",
	})
	wantErrors(t, got,
		"empty.toml:1: no [[rule]]",
		`noside.toml:1: rule "x" has no [rule.news]`,
		`noside.toml:1: rule "x" has no [rule.posts]`,
		`nopost.toml:6: rule "y": posts has no topics, any or shared`,
		`badid.toml:2: rule id "Bad Id" must be lower-case`,
	)
}

func TestParseRefusesSelfCancellingNot(t *testing.T) {
	got := mustErrors(t, map[string]string{"r.toml": "[[rule]]\nid = \"r\"\naction = \"pause\"\n[rule.news]\nany = [\"train\"]\nnot = [\"training\"]\n[rule.posts]\nany = [\"b\"]\n"})
	wantErrors(t, got, `r.toml:6: news.not phrase "training" stems like "train"`)
}

func TestLoadFilesGlobsAndTestFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("air.toml", validRule)
	write("air.test.toml", "this is not a rule file and must not be parsed as one")
	set, err := LoadFiles([]string{filepath.Join(dir, "*.toml")})
	if err != nil {
		t.Fatalf("test files must be skipped: %v", err)
	}
	if set.Len() != 1 || set.Rule("air-disaster").File != filepath.Join(dir, "air.toml") {
		t.Fatalf("loaded %v", set.IDs())
	}
	if set, err := LoadFiles([]string{dir}); err != nil || set.Len() != 1 {
		t.Fatalf("a directory stands for its rule files: %v", err)
	}
	_, err = LoadFiles([]string{filepath.Join(dir, "*.toml"), filepath.Join(dir, "nothing-*.toml")})
	var errs *Errors
	if !errors.As(err, &errs) || !strings.Contains(err.Error(), "nothing-*.toml: no rule file matches") {
		t.Fatalf("a glob matching nothing must be an error, got %v", err)
	}
}

func TestParseTestFiles(t *testing.T) {
	set, err := Parse(map[string][]byte{"air.toml": []byte(validRule)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseTests(map[string][]byte{"t.test.toml": []byte(`[[case]]
name   = "a"
news   = "x"
post   = "y"
expect = ["no-such-rule"]
colour = 1

[[case]]
name = "a"
news = "x"
post = "y"
`)}, set)
	if err == nil {
		t.Fatal("bad test file accepted")
	}
	for _, want := range []string{
		`t.test.toml:5: case "a" expects unknown rule "no-such-rule"`,
		`t.test.toml:6: unknown key "case.colour"`,
		`t.test.toml:8: duplicate case name "a"`,
		`t.test.toml:8: case "a" has no expect`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestParseAliases(t *testing.T) {
	set, err := Parse(map[string][]byte{"a.toml": []byte(validRule), "places.toml": []byte("[[alias]]\nnames = [\"Brussels\", \"Bruxelles\"]\n")})
	if err != nil {
		t.Fatalf("a file of aliases only is valid: %v", err)
	}
	if set.Len() != 1 {
		t.Fatalf("aliases are not rules: %d", set.Len())
	}
	got := mustErrors(t, map[string]string{"places.toml": "[[alias]]\nnames = [\"Brussels\"]\n\n[[alias]]\nname = [\"x\", \"y\"]\n"})
	wantErrors(t, got, "places.toml:2: alias needs at least two names", `places.toml:5: unknown key "alias.name"`)
}

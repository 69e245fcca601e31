package rules

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// CaseResult is the outcome of one rule-test case.
type CaseResult struct {
	File     string   `json:"file"`
	Name     string   `json:"name"`
	Passed   bool     `json:"passed"`
	Expected []string `json:"expected"`
	Fired    []string `json:"fired"`
	// Why explains what fired and on which words, or why an expected rule did not.
	Why string `json:"-"`
}

// Case is one [[case]] of a *.test.toml file.
type Case struct {
	Name   string
	News   string
	Post   string
	Topics []string
	Expect []string // ids that must fire; [] = nothing may fire; ["*"] = at least one
	Lang   string   // the case's language for quality figures: "en", "fr" or "mixed"; a label, not matched
	Reason string   // one line: why it clashes or why it is a trap
	File   string
	Line   int
}

type testDoc struct {
	Case []caseDoc `toml:"case"`
}

type caseDoc struct {
	Name   string    `toml:"name"`
	News   string    `toml:"news"`
	Post   string    `toml:"post"`
	Topics []string  `toml:"topics"`
	Expect *[]string `toml:"expect"`
	Lang   string    `toml:"lang"`
	Reason string    `toml:"reason"`
}

// ParseTests reads rule-test files (name -> contents). Every problem is reported as
// FILE:LINE: message in a *Errors. Expected ids are checked against the set when it is
// not nil.
func ParseTests(files map[string][]byte, set *Set) ([]Case, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs Errors
	var cases []Case
	for _, name := range names {
		data := files[name]
		var doc testDoc
		md, err := toml.Decode(string(data), &doc)
		if err != nil {
			errs.add(name, tomlErrLine(err), "invalid TOML: %s", tomlErrMsg(err))
			continue
		}
		lines := scanKeys(data)
		reportUnknown(name, md, lines, &errs)
		if len(doc.Case) == 0 {
			errs.add(name, 1, "no [[case]] in this test file")
		}
		seen := map[string]int{}
		for i, cd := range doc.Case {
			at := func(key string) int { return lines.line("case", i, key) }
			c := Case{Name: cd.Name, News: cd.News, Post: cd.Post, Topics: cd.Topics, Lang: cd.Lang, Reason: cd.Reason, File: name, Line: at("")}
			switch cd.Lang {
			case "", "en", "fr", "mixed":
			default:
				errs.add(name, at("lang"), "case %q: unknown lang %q; use \"en\", \"fr\" or \"mixed\" (news and post in different languages)", cd.Name, cd.Lang)
			}
			if cd.Name == "" {
				errs.add(name, c.Line, "case has no name; add name = \"...\"")
			} else if prev, dup := seen[cd.Name]; dup {
				errs.add(name, c.Line, "duplicate case name %q (first at line %d)", cd.Name, prev)
			} else {
				seen[cd.Name] = c.Line
			}
			if strings.TrimSpace(cd.News) == "" {
				errs.add(name, at("news"), "case %q has no news text", cd.Name)
			}
			if strings.TrimSpace(cd.Post) == "" && len(cd.Topics) == 0 {
				errs.add(name, c.Line, "case %q has neither post nor topics", cd.Name)
			}
			if cd.Expect == nil {
				errs.add(name, c.Line, "case %q has no expect; use [\"rule-id\", ...], [] (nothing may fire) or [\"*\"] (something fires)", cd.Name)
			} else {
				c.Expect = append([]string{}, (*cd.Expect)...)
				for _, id := range c.Expect {
					if id == "*" {
						if len(c.Expect) > 1 {
							errs.add(name, at("expect"), "case %q: \"*\" must be alone in expect", cd.Name)
						}
						continue
					}
					if set != nil && set.Rule(id) == nil {
						errs.add(name, at("expect"), "case %q expects unknown rule %q; known: %s", cd.Name, id, strings.Join(set.IDs(), ", "))
					}
				}
			}
			cases = append(cases, c)
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return cases, nil
}

// RunTests reads the test files and runs every case through the production matcher
// (Set.Evaluate), news against post. Malformed test files give a *Errors and no results.
func RunTests(set *Set, testFiles []string) ([]CaseResult, error) {
	contents := map[string][]byte{}
	var errs Errors
	for _, f := range testFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			errs.add(f, 0, "cannot read: %v", err)
			continue
		}
		contents[f] = b
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	cases, err := ParseTests(contents, set)
	if err != nil {
		return nil, err
	}
	out := make([]CaseResult, 0, len(cases))
	for _, c := range cases {
		out = append(out, set.RunCase(c))
	}
	return out, nil
}

// RunCase runs one case.
func (s *Set) RunCase(c Case) CaseResult {
	verdicts := s.Evaluate(Text{Title: c.News}, PostInput{Text: c.Post, Topics: c.Topics})
	fired := []string{}
	var why []string
	for _, v := range verdicts {
		if !containsString(fired, v.Rule.ID) {
			fired = append(fired, v.Rule.ID)
			why = append(why, v.Rule.ID+": "+v.Why())
		}
	}
	sort.Strings(fired)
	res := CaseResult{File: c.File, Name: c.Name, Expected: c.Expect, Fired: fired}
	if res.Expected == nil {
		res.Expected = []string{}
	}
	switch {
	case len(c.Expect) == 1 && c.Expect[0] == "*":
		res.Passed = len(fired) > 0
	case len(c.Expect) == 0:
		res.Passed = len(fired) == 0
	default:
		res.Passed = true
		for _, id := range c.Expect {
			if !containsString(fired, id) {
				res.Passed = false
				why = append(why, s.whyNot(id, c))
			}
		}
	}
	if len(fired) == 0 && len(c.Expect) == 1 && c.Expect[0] == "*" {
		why = append(why, s.whyNothing(c))
	}
	res.Why = strings.Join(why, "; ")
	return res
}

// whyNot explains why an expected rule did not fire: its news side or its posts side.
func (s *Set) whyNot(id string, c Case) string {
	r := s.Rule(id)
	if r == nil {
		return fmt.Sprintf("%s: no such rule", id)
	}
	for _, nm := range s.MatchNews(Text{Title: c.News}) {
		if nm.Rule == r {
			return fmt.Sprintf("%s: news matched on %s but the post matched none of its topics, terms or shared names", id, quoteList(nm.Terms))
		}
	}
	return fmt.Sprintf("%s: the news did not match its news side", id)
}

// whyNothing explains an empty result for an expect ["*"] case.
func (s *Set) whyNothing(c Case) string {
	ms := s.MatchNews(Text{Title: c.News})
	if len(ms) == 0 {
		return "no rule's news side matched the news"
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.Rule.ID
	}
	return "news matched " + strings.Join(ids, ", ") + " but the post matched none of their posts sides"
}

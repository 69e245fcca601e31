// Package rules owns tact's safety rules: the rule file format (TOML, validated as a whole
// with every error reported as FILE:LINE), the matcher that decides which rules a news item
// opens and which posts clash with it, and the declarative rule-test runner.
//
// It is pure: no I/O in the matcher, no daemon imports. The daemon's watcher, the API's
// preview and `tactctl rules check|test|explain` all call the same Parse and the same
// matcher, so what the checker accepts is what the daemon runs.
//
// Matching is on normalised words: Unicode NFKD with accents and case folded, French
// elisions and English endings split off at apostrophes, hyphens splitting words, and each
// word stemmed by the Snowball stemmer of the text's language. Every phrase of every rule
// is compiled into one automaton over stemmed word sequences, so a headline is tokenised
// once and its cost hardly depends on how many rules are loaded.
package rules

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Actions and resume modes a rule may name.
const (
	ActionPause = "pause" // pause matching campaigns
	ActionHold  = "hold"  // hold matching posts
	ActionFlag  = "flag"  // mark only

	ResumeManual = "manual" // a person resumes
	ResumeAuto   = "auto"   // resumes when the incident closes
)

// Shared kinds a rule's posts side may ask for.
const (
	// SharedNames: the post and the news share a proper name (place, person, club,
	// product) that is not a common word.
	SharedNames = "names"
)

// Rule is one validated safety rule.
type Rule struct {
	ID          string
	Description string
	Action      string        // "pause" | "hold" | "flag"
	Resume      string        // "manual" | "auto"
	Window      time.Duration // an incident stays open this long after its latest item
	// MinSources is how many distinct sources must report a matching item before the rule
	// acts; the caller counts sources per incident.
	MinSources int
	File       string // the file and line of its [[rule]] header
	Line       int

	News   NewsSide
	Posts  PostSide
	Places PlaceSide // [rule.places]: posts naming a place near the news's places clash

	index int // position in its set, for the compiled matcher
}

// NewsSide is what in the context opens an incident.
type NewsSide struct {
	Any    []string // at least one must appear
	All    []string // every one must also appear
	With   []string // when set, at least one of these must also appear
	Not    []string // an occurrence covered by one of these does not count
	Unless []string // when one of these appears anywhere, the item does not match
}

// PostSide is which campaigns and posts clash with an open incident.
type PostSide struct {
	Topics []string // any campaign topic
	Any    []string // or any of these in the post text
	Shared []string // or the post shares these kinds of things with the news ("names")
	Not    []string // an occurrence covered by one of these does not count
	Unless []string // when one of these appears anywhere in the post, it does not clash
}

// Set is a validated, compiled set of rules. It is safe for concurrent use.
type Set struct {
	rules   []*Rule
	byID    map[string]*Rule
	m       *matcher
	aliases *aliasIndex // [[alias]] groups, for shared names
}

// Rules returns the rules in load order (files sorted by name, rules in file order).
func (s *Set) Rules() []*Rule { return append([]*Rule(nil), s.rules...) }

// Rule returns the rule with this id, or nil.
func (s *Set) Rule(id string) *Rule { return s.byID[id] }

// Len is the number of rules.
func (s *Set) Len() int { return len(s.rules) }

// IDs returns the rule ids, sorted.
func (s *Set) IDs() []string {
	ids := make([]string, 0, len(s.rules))
	for _, r := range s.rules {
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	return ids
}

// Text is a news item (or any context item) to match.
type Text struct {
	Title    string
	Summary  string
	Language string // from the feed or item; empty means detect
	Source   string // who reported it (the caller counts distinct sources)
}

// body is what is matched: the title, then the summary as a sentence of its own.
func (t Text) body() string {
	title := strings.TrimSpace(t.Title)
	summary := strings.TrimSpace(t.Summary)
	switch {
	case summary == "":
		return title
	case title == "":
		return summary
	}
	return title + ". " + summary
}

// PostInput is a post (or a campaign, with Text empty) to check against a rule.
type PostInput struct {
	Text     string
	Topics   []string
	Language string // empty means detect
}

// NewsMatch says that a news item matches a rule's news side, and on which terms.
type NewsMatch struct {
	Rule  *Rule
	Terms []string // the rule's `any` phrases found in the item
	Also  []string // the `all` and `with` phrases found too
}

// PostMatch says why a post clashes with a rule.
type PostMatch struct {
	Topics []string // rule topics that matched a campaign topic
	Terms  []string // rule `any` phrases found in the post text
	Shared []string // names found in both the post and the news
	Places []string // post places near the news's places, and why
}

// Reason is a one-line human explanation.
func (p PostMatch) Reason() string {
	var parts []string
	if len(p.Topics) > 0 {
		parts = append(parts, "topic "+quoteList(p.Topics))
	}
	if len(p.Terms) > 0 {
		parts = append(parts, "post says "+quoteList(p.Terms))
	}
	if len(p.Shared) > 0 {
		parts = append(parts, "shares "+quoteList(p.Shared)+" with the news")
	}
	if len(p.Places) > 0 {
		parts = append(parts, "places "+strings.Join(p.Places, "; "))
	}
	return strings.Join(parts, "; ")
}

// Verdict is one rule firing for a (news, post) pair, with why.
type Verdict struct {
	Rule *Rule
	News NewsMatch
	Post PostMatch
}

// Why explains the verdict in one line.
func (v Verdict) Why() string {
	why := "news says " + quoteList(v.News.Terms)
	if len(v.News.Also) > 0 {
		why += " with " + quoteList(v.News.Also)
	}
	return why + "; " + v.Post.Reason()
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = `"` + x + `"`
	}
	return strings.Join(q, ", ")
}

// stemCache remembers the vocabulary id of words already seen, per language, so that
// the stemmer runs once per distinct word rather than once per occurrence. It is bounded:
// when full it starts again empty.
type stemCache struct {
	m sync.Map // string -> int32
	n atomic.Int64
}

const stemCacheMax = 200_000

func (c *stemCache) load(w string) (int32, bool) {
	v, ok := c.m.Load(w)
	if !ok {
		return 0, false
	}
	return v.(int32), true
}

func (c *stemCache) store(w string, id int32) {
	if c.n.Add(1) > stemCacheMax {
		c.m.Clear()
		c.n.Store(0)
	}
	c.m.Store(w, id)
}

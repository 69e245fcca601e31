package rules

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// field says where in a rule a phrase is used.
type field uint8

const (
	fNewsAny field = iota
	fNewsAll
	fNewsWith
	fNewsNot
	fNewsUnless
	fPostTopic
	fPostAny
	fPostNot
	fPostUnless
	numFields
)

func (f field) news() bool { return f <= fNewsUnless }

// use is one place a phrase is used: rule index and field.
type use struct {
	rule  int32
	field field
}

// pattern is one distinct phrase (distinct by its folded words), shared by every rule
// and field that uses it.
type pattern struct {
	text string // as the first rule wrote it, for explanations
	uses []use
}

// trie is the automaton for one language: every phrase's stemmed word sequence, as a
// trie keyed by (node, word id). Walking it from each word of a text finds every phrase
// occurrence in O(words × longest phrase), whatever the number of rules.
type trie struct {
	vocab map[string]int32  // stem -> word id
	next  map[uint64]int32  // node<<32 | word id -> child node
	out   map[int32][]int32 // node -> patterns ending here
	nodes int32
	cache stemCache
}

func newTrie() *trie {
	return &trie{vocab: map[string]int32{}, next: map[uint64]int32{}, out: map[int32][]int32{}, nodes: 1}
}

func (t *trie) insert(stems []string, pat int32) {
	node := int32(0)
	for _, s := range stems {
		id, ok := t.vocab[s]
		if !ok {
			id = int32(len(t.vocab))
			t.vocab[s] = id
		}
		key := uint64(node)<<32 | uint64(uint32(id))
		child, ok := t.next[key]
		if !ok {
			child = t.nodes
			t.nodes++
			t.next[key] = child
		}
		node = child
	}
	for _, p := range t.out[node] {
		if p == pat {
			return
		}
	}
	t.out[node] = append(t.out[node], pat)
}

// wordID returns the vocabulary id of a token's stem in this language, -1 when no rule
// uses that stem (then no phrase can run through it).
func (t *trie) wordID(l lang, tok *token) int32 {
	if id, ok := t.cache.load(tok.Lower); ok {
		return id
	}
	id, ok := t.vocab[stemToken(l, tok.Lower)]
	if !ok {
		id = -1
	}
	t.cache.store(tok.Lower, id)
	return id
}

// stemToken stems a word; emoji and other symbols stay as they are.
func stemToken(l lang, lower string) string {
	r, _ := utf8.DecodeRuneInString(lower)
	if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		return lower
	}
	return stemWord(l, lower)
}

// matcher is the compiled form of a rule set.
type matcher struct {
	patterns []pattern
	tries    [numLangs]*trie
	rules    []compiledRule
}

// compiledRule is what evaluation needs per rule beyond its uses.
type compiledRule struct {
	rule    *Rule
	allPats []int32 // distinct patterns of news.all, each must be found
	hasWith bool
	shared  bool
}

// hit is one phrase occurrence: pattern and token span [start, end).
type hit struct {
	pat        int32
	start, end int32
}

// compile builds the automaton over every phrase of every rule, in every language.
func compile(rules []*Rule) *matcher {
	m := &matcher{}
	for l := range m.tries {
		m.tries[l] = newTrie()
	}
	byKey := map[string]int32{}
	add := func(ri int, f field, phrase string) int32 {
		toks := tokenize(phrase)
		key := ""
		for i, t := range toks {
			if i > 0 {
				key += " "
			}
			key += t.Word
		}
		id, ok := byKey[key]
		if !ok {
			id = int32(len(m.patterns))
			byKey[key] = id
			m.patterns = append(m.patterns, pattern{text: phrase})
			for l := lang(0); l < numLangs; l++ {
				stems := make([]string, len(toks))
				for i := range toks {
					stems[i] = stemToken(l, toks[i].Lower)
				}
				m.tries[l].insert(stems, id)
			}
		}
		u := use{rule: int32(ri), field: f}
		p := &m.patterns[id]
		for _, x := range p.uses {
			if x == u {
				return id
			}
		}
		p.uses = append(p.uses, u)
		return id
	}
	for ri, r := range rules {
		r.index = ri
		cr := compiledRule{rule: r, hasWith: len(r.News.With) > 0}
		for _, s := range r.Posts.Shared {
			if s == SharedNames {
				cr.shared = true
			}
		}
		lists := []struct {
			f     field
			items []string
		}{
			{fNewsAny, r.News.Any}, {fNewsAll, r.News.All}, {fNewsWith, r.News.With},
			{fNewsNot, r.News.Not}, {fNewsUnless, r.News.Unless},
			{fPostTopic, r.Posts.Topics}, {fPostAny, r.Posts.Any},
			{fPostNot, r.Posts.Not}, {fPostUnless, r.Posts.Unless},
		}
		for _, l := range lists {
			for _, phrase := range l.items {
				id := add(ri, l.f, phrase)
				if l.f == fNewsAll && !containsID(cr.allPats, id) {
					cr.allPats = append(cr.allPats, id)
				}
			}
		}
		m.rules = append(m.rules, cr)
	}
	return m
}

func containsID(xs []int32, x int32) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// scan finds every phrase occurrence in the tokens, stemming them in each language given.
// Occurrences found in several languages are reported once.
func (m *matcher) scan(toks []token, langs []lang) []hit {
	var hits []hit
	ids := make([]int32, len(toks))
	for li, l := range langs {
		t := m.tries[l]
		for i := range toks {
			ids[i] = t.wordID(l, &toks[i])
		}
		for i := range ids {
			node := int32(0)
			for j := i; j < len(ids); j++ {
				id := ids[j]
				if id < 0 {
					break
				}
				child, ok := t.next[uint64(node)<<32|uint64(uint32(id))]
				if !ok {
					break
				}
				node = child
				for _, p := range t.out[node] {
					h := hit{pat: p, start: int32(i), end: int32(j + 1)}
					if li > 0 && containsHit(hits, h) {
						continue
					}
					hits = append(hits, h)
				}
			}
		}
	}
	return hits
}

func containsHit(hits []hit, h hit) bool {
	for _, x := range hits {
		if x == h {
			return true
		}
	}
	return false
}

// ruleHits gathers, for one rule and one text, the hits of each field.
type ruleHits [numFields][]hit

// byRule groups hits by rule, keeping only the fields wanted (news or post side).
func (m *matcher) byRule(hits []hit, news bool, only int32) map[int32]*ruleHits {
	acc := map[int32]*ruleHits{}
	for _, h := range hits {
		for _, u := range m.patterns[h.pat].uses {
			if u.field.news() != news || (only >= 0 && u.rule != only) {
				continue
			}
			rh := acc[u.rule]
			if rh == nil {
				rh = &ruleHits{}
				acc[u.rule] = rh
			}
			rh[u.field] = append(rh[u.field], h)
		}
	}
	return acc
}

// uncovered drops the hits a `not` phrase covers: "crash course" covers "crash".
func uncovered(hs, nots []hit) []hit {
	if len(nots) == 0 {
		return hs
	}
	var out []hit
	for _, h := range hs {
		covered := false
		for _, n := range nots {
			if n.start <= h.start && h.end <= n.end {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, h)
		}
	}
	return out
}

// texts returns the distinct phrases of the hits, in text order, one per stretch of text.
func (m *matcher) texts(hs []hit) []string {
	var out []string
	seen := map[int32]bool{}
	type span struct{ start, end int32 }
	spans := map[span]bool{}
	slices.SortStableFunc(hs, func(a, b hit) int { return int(a.start - b.start) })
	for _, h := range hs {
		// One phrase per stretch of text: "quake" and "quakes" both match "quake"; say it once.
		sp := span{h.start, h.end}
		if seen[h.pat] || spans[sp] {
			continue
		}
		seen[h.pat] = true
		spans[sp] = true
		out = append(out, m.patterns[h.pat].text)
	}
	return out
}

// newsMatch evaluates one rule's news side on its hits.
func (m *matcher) newsMatch(ri int32, rh *ruleHits) (NewsMatch, bool) {
	cr := &m.rules[ri]
	if len(rh[fNewsUnless]) > 0 {
		return NewsMatch{}, false
	}
	nots := rh[fNewsNot]
	anyHits := uncovered(rh[fNewsAny], nots)
	if len(anyHits) == 0 {
		return NewsMatch{}, false
	}
	var also []hit
	if len(cr.allPats) > 0 {
		allHits := uncovered(rh[fNewsAll], nots)
		for _, p := range cr.allPats {
			found := false
			for _, h := range allHits {
				if h.pat == p {
					found = true
					also = append(also, h)
					break
				}
			}
			if !found {
				return NewsMatch{}, false
			}
		}
	}
	if cr.hasWith {
		withHits := uncovered(rh[fNewsWith], nots)
		if len(withHits) == 0 {
			return NewsMatch{}, false
		}
		also = append(also, withHits...)
	}
	return NewsMatch{Rule: cr.rule, Terms: m.texts(anyHits), Also: m.texts(also)}, true
}

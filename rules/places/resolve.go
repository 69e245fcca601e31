package places

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// word is one word of a text as the resolver reads it.
type word struct {
	folded  string
	cap     bool // starts with a capital
	initial bool // starts the text or a sentence
	comma   bool // a comma or an opening bracket comes right before it
}

// splitWords splits text at everything but letters, digits and inner apostrophes; French
// elisions are dropped ("d'Annecy" is "annecy").
func splitWords(s string) []word {
	var out []word
	initial, comma := true, false
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			switch r {
			case '.', '!', '?', ';', ':', '\n', '|':
				initial = true
			case ',', '(':
				comma = true
			}
			i += size
			continue
		}
		start := i
		for i < len(s) {
			r2, s2 := utf8.DecodeRuneInString(s[i:])
			if unicode.IsLetter(r2) || unicode.IsDigit(r2) || unicode.Is(unicode.Mn, r2) {
				i += s2
				continue
			}
			if (r2 == '\'' || r2 == '’') && i+s2 < len(s) {
				w := strings.ToLower(s[start:i])
				if w == "l" || w == "d" || w == "qu" || w == "jusqu" {
					i += s2
					start = i
					continue
				}
			}
			break
		}
		raw := s[start:i]
		first, _ := utf8.DecodeRuneInString(raw)
		out = append(out, word{folded: fold(raw), cap: unicode.IsUpper(first), initial: initial, comma: comma})
		initial, comma = false, false
	}
	return out
}

// fold lower-cases and drops accents: "Genève" is "geneve".
func fold(s string) string {
	s = strings.ToLower(s)
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return strings.NewReplacer("œ", "oe", "æ", "ae", "ß", "ss", "ø", "o", "ł", "l").Replace(b.String())
}

// Mention is a place a text names, as written there.
type Mention struct {
	Text  string // the words of the text that name it, folded
	Place Place
}

// connectors may stand inside a name without a capital ("Saint-Julien-en-Genevois",
// "Stratford-upon-Avon", "Rio de Janeiro").
var connectors = map[string]bool{"de": true, "du": true, "des": true, "la": true, "le": true, "les": true, "en": true,
	"sur": true, "sous": true, "upon": true, "on": true, "of": true, "the": true, "et": true, "aux": true, "di": true, "del": true}

// stopRank: a name that is one of the most frequent words ("Of", "Is", "Sale") is never a
// place on its own.
const stopRank = 400

// Resolve returns the places text names, in order. A name must be written as one: with a
// capital, except in a text set in capitals; a name that is also a frequent word ("Nice",
// "Reading", "Mobile") counts only when it does not start a sentence. A town followed by
// its region or country ("Paris, Texas", "Paris TX", "London, Ontario") is that town; else
// the places the text names elsewhere, then population, decide between namesakes.
func (g *Gazetteer) Resolve(text string) []Mention {
	return g.resolve(splitWords(text), false)
}

// ResolveLabel resolves a label an admin wrote (a campaign topic), where capitals say
// nothing: every name counts but the frequent words.
func (g *Gazetteer) ResolveLabel(text string) []Mention {
	return g.resolve(splitWords(text), true)
}

type span struct {
	from, to int
	key      string
	ids      []int32
	qual     []int32 // the region or country written right after it
}

func (g *Gazetteer) resolve(ws []word, label bool) []Mention {
	caps, letters := 0, 0
	for _, w := range ws {
		if w.folded != "" && !unicode.IsDigit(rune(w.folded[0])) {
			letters++
			if w.cap {
				caps++
			}
		}
	}
	shouting := !label && letters >= 3 && caps == letters
	nameOK := func(w word) bool { return label || shouting || w.cap }
	var spans []span
	var key strings.Builder
	for i := 0; i < len(ws); {
		found := span{from: -1}
		if nameOK(ws[i]) {
			key.Reset()
			for n := 1; n <= g.maxLen && i+n <= len(ws); n++ {
				w := ws[i+n-1]
				if n > 1 {
					if !nameOK(w) && !connectors[w.folded] || w.comma || (w.initial && !label) {
						break
					}
					key.WriteByte(' ')
				}
				key.WriteString(w.folded)
				if !nameOK(w) {
					continue // a name does not end on a connector
				}
				if ids, ok := g.byName[key.String()]; ok {
					found = span{from: i, to: i + n, key: key.String(), ids: ids}
				}
			}
		}
		if found.from < 0 || !g.acceptable(found, ws[i], label) {
			i++
			continue
		}
		spans = append(spans, found)
		i = found.to
	}
	// A region or country right after a town qualifies it; a region's abbreviation
	// ("TX") counts only there.
	for k := range spans {
		s := &spans[k]
		if s.to < len(ws) {
			next := ws[s.to]
			if ids, ok := g.abbrev[strings.ToUpper(next.folded)]; ok && next.cap {
				s.qual = ids
			}
		}
		if k+1 < len(spans) && spans[k+1].from == s.to {
			s.qual = append(s.qual, spans[k+1].ids...)
		}
	}
	var context []Place
	for _, s := range spans {
		if len(s.ids) == 1 {
			context = append(context, g.places[s.ids[0]])
		}
	}
	out := make([]Mention, 0, len(spans))
	for _, s := range spans {
		var id int32 = -1
		if len(s.qual) > 0 {
			id = g.qualified(s.ids, s.qual)
		}
		if id < 0 {
			id = g.best(s.ids, context)
		}
		out = append(out, Mention{Text: s.key, Place: g.places[id]})
	}
	return out
}

// acceptable: a name that is a frequent word is a place only when written as a name in
// the middle of a sentence.
func (g *Gazetteer) acceptable(s span, first word, label bool) bool {
	if s.to-s.from > 1 {
		return true
	}
	r, frequent := g.rank[s.key]
	if len(s.key) < 3 || frequent && r <= stopRank {
		return false
	}
	if !frequent {
		return true
	}
	for _, id := range s.ids {
		// London, Paris and countries are named however they are written.
		if p := g.places[id]; p.Kind == Country || p.Pop >= 1_000_000 {
			return true
		}
	}
	return !label && !first.initial
}

// qualified picks the candidate that lies in one of the qualifying areas.
func (g *Gazetteer) qualified(ids, qual []int32) int32 {
	var best int32 = -1
	for _, id := range ids {
		for _, q := range qual {
			if Within(g.places[id], g.places[q]) && g.places[id] != g.places[q] {
				if best < 0 || g.places[id].Pop > g.places[best].Pop {
					best = id
				}
			}
		}
	}
	return best
}

// best picks among namesakes: a place in an area the text names elsewhere, or near a place
// it names, wins; then the biggest (countries and regions weigh as their people).
func (g *Gazetteer) best(ids []int32, context []Place) int32 {
	best, bestScore := ids[0], math.Inf(-1)
	for _, id := range ids {
		p := g.places[id]
		score := math.Log10(float64(p.Pop) + 10)
		if p.Kind != City {
			score += 0.5
		}
		for _, c := range context {
			switch {
			case c == p:
			case Within(p, c):
				score += 5
			case c.Kind == City && Distance(p, c) < 200:
				score += 3
			}
		}
		if score > bestScore {
			best, bestScore = id, score
		}
	}
	// "Geneva", "Mexico", "New York": the city and the area named after it; the city is meant.
	if g.places[best].Kind != City {
		for _, id := range ids {
			if p := g.places[id]; p.Kind == City && Within(p, g.places[best]) && p.Pop*4 >= g.places[best].Pop/10 {
				return id
			}
		}
	}
	return best
}

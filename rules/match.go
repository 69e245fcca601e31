package rules

import "sort"

// preparedText is a text tokenised once, with its phrase hits.
type preparedText struct {
	toks []token
	hits []hit
}

func (s *Set) prepare(text, language string) preparedText {
	toks := tokenize(text)
	if _, declared := parseLang(language); declared {
		return preparedText{toks: toks, hits: s.m.scan(toks, languagesFor(language, toks))}
	}
	if l, conf := cueLanguage(toks); conf == confSure {
		return preparedText{toks: toks, hits: s.m.scan(toks, []lang{l})}
	}
	// Unsure of the language: when the English and French readings find the same
	// phrases (most often none at all), the detector cannot change the outcome for the
	// pack's two languages, so it is not run. It costs more than the rest together.
	en := s.m.scan(toks, []lang{langEN})
	fr := s.m.scan(toks, []lang{langFR})
	if sameHits(en, fr) {
		return preparedText{toks: toks, hits: en}
	}
	langs := languagesFor(language, toks)
	switch {
	case len(langs) == 1 && langs[0] == langEN:
		return preparedText{toks: toks, hits: en}
	case len(langs) == 1 && langs[0] == langFR:
		return preparedText{toks: toks, hits: fr}
	case len(langs) == 1:
		return preparedText{toks: toks, hits: s.m.scan(toks, langs)}
	}
	for _, h := range fr {
		if !containsHit(en, h) {
			en = append(en, h)
		}
	}
	return preparedText{toks: toks, hits: en}
}

// sameHits: the two scans found the same phrase occurrences.
func sameHits(a, b []hit) bool {
	if len(a) != len(b) {
		return false
	}
	for _, h := range a {
		if !containsHit(b, h) {
			return false
		}
	}
	return true
}

// topicLangs: campaign topics are short labels; they are matched in English and French
// (and in the post's language when it is another).
func topicLangs(postLang string) []lang {
	ls := []lang{langEN, langFR}
	if l, ok := parseLang(postLang); ok && l != langEN && l != langFR {
		ls = append(ls, l)
	}
	return ls
}

// preparedPost is a post tokenised once: its text and each of its topics.
type preparedPost struct {
	text   preparedText
	topics []preparedText
	in     PostInput // for [rule.places], which reads the text itself
}

func (s *Set) preparePost(p PostInput) preparedPost {
	pp := preparedPost{text: s.prepare(p.Text, p.Language), in: p}
	langs := topicLangs(p.Language)
	for _, t := range p.Topics {
		toks := tokenize(t)
		pp.topics = append(pp.topics, preparedText{toks: toks, hits: s.m.scan(toks, langs)})
	}
	return pp
}

// MatchNews returns the rules whose news side this item matches, in rule order. It does
// not apply min_sources: the caller counts distinct sources per incident (Rule.MinSources).
func (s *Set) MatchNews(n Text) []NewsMatch {
	return s.matchNews(s.prepare(n.body(), n.Language))
}

func (s *Set) matchNews(pt preparedText) []NewsMatch {
	acc := s.m.byRule(pt.hits, true, -1)
	ids := make([]int32, 0, len(acc))
	for ri, rh := range acc {
		if len(rh[fNewsAny]) > 0 {
			ids = append(ids, ri)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var out []NewsMatch
	for _, ri := range ids {
		if nm, ok := s.m.newsMatch(ri, acc[ri]); ok {
			out = append(out, nm)
		}
	}
	return out
}

// MatchPost reports whether a post (or a campaign: empty text, its topics) clashes with
// rule r, given the news items of r's incident (needed for the shared-names feature).
// The PostMatch says why: topics, terms, shared names.
func (s *Set) MatchPost(r *Rule, p PostInput, news []Text) (PostMatch, bool) {
	if r == nil || s.byID[r.ID] != r {
		return PostMatch{}, false
	}
	var newsToks [][]token
	if s.m.rules[r.index].shared {
		for _, n := range news {
			newsToks = append(newsToks, tokenize(n.body()))
		}
	}
	return s.matchPost(int32(r.index), s.preparePost(p), newsToks, newsBodies(news))
}

func newsBodies(news []Text) []string {
	out := make([]string, len(news))
	for i, n := range news {
		out[i] = n.body()
	}
	return out
}

func (s *Set) matchPost(ri int32, pp preparedPost, newsToks [][]token, newsTexts []string) (PostMatch, bool) {
	cr := &s.m.rules[ri]
	var pm PostMatch
	if rh := s.m.byRule(pp.text.hits, false, ri)[ri]; rh != nil {
		if len(rh[fPostUnless]) > 0 {
			return PostMatch{}, false
		}
		pm.Terms = s.m.texts(uncovered(rh[fPostAny], rh[fPostNot]))
	}
	for _, t := range pp.topics {
		if rh := s.m.byRule(t.hits, false, ri)[ri]; rh != nil {
			for _, x := range s.m.texts(rh[fPostTopic]) {
				if !containsString(pm.Topics, x) {
					pm.Topics = append(pm.Topics, x)
				}
			}
		}
	}
	if cr.shared && len(newsToks) > 0 {
		topicToks := make([][]token, len(pp.topics))
		for i, t := range pp.topics {
			topicToks[i] = t.toks
		}
		pm.Shared = sharedNames(pp.text.toks, topicToks, newsToks)
		for _, a := range s.aliases.shared(pp.text.toks, topicToks, newsToks) {
			// "Lisbon" found as a name already needs no alias to say it again.
			if !containsString(pm.Shared, fold(a)) {
				pm.Shared = append(pm.Shared, a)
			}
		}
	}
	pm.Places = matchPlaces(s.rules[ri].Places, pp.in, newsTexts)
	ok := len(pm.Topics)+len(pm.Terms)+len(pm.Shared)+len(pm.Places) > 0
	return pm, ok
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Evaluate returns every rule that fires for this (news, post) pair: its news side
// matches the item and its posts side matches the post. Used by rule tests, explain and
// preview.
func (s *Set) Evaluate(news Text, post PostInput) []Verdict {
	nt := s.prepare(news.body(), news.Language)
	matches := s.matchNews(nt)
	if len(matches) == 0 {
		return nil
	}
	pp := s.preparePost(post)
	newsToks := [][]token{nt.toks}
	newsTexts := []string{news.body()}
	var out []Verdict
	for _, nm := range matches {
		if pm, ok := s.matchPost(int32(nm.Rule.index), pp, newsToks, newsTexts); ok {
			out = append(out, Verdict{Rule: nm.Rule, News: nm, Post: pm})
		}
	}
	return out
}

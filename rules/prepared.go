package rules

// A page of the queue is matched against every open incident: each of its posts against
// several rules, each incident's news against every post. MatchPost reads the post (and,
// for rules that share names with the news, every news text) again at each call; the
// prepared forms below read each once, for the same answers.

// PreparedPost is a post read once by a set, for MatchPrepared.
type PreparedPost struct {
	set *Set
	in  PostInput
	pp  preparedPost
}

// PreparePost reads p once (its text and each topic tokenised and scanned by s's rules).
func (s *Set) PreparePost(p PostInput) PreparedPost {
	return PreparedPost{set: s, in: p, pp: s.preparePost(p)}
}

// PreparedNews is an incident's news texts, tokenised once for MatchPrepared.
type PreparedNews struct {
	toks  [][]token
	texts []string // for [rule.places]
}

// PrepareNews tokenises news once: the names a post shares with the news are found in them.
func PrepareNews(news []Text) PreparedNews {
	var pn PreparedNews
	for _, n := range news {
		pn.toks = append(pn.toks, tokenize(n.body()))
	}
	pn.texts = newsBodies(news)
	return pn
}

// MatchPrepared is MatchPost with the post and the news prepared: the same answer. A post
// prepared by another set is read again by s.
func (s *Set) MatchPrepared(r *Rule, p PreparedPost, news PreparedNews) (PostMatch, bool) {
	if r == nil || s.byID[r.ID] != r {
		return PostMatch{}, false
	}
	pp := p.pp
	if p.set != s {
		pp = s.preparePost(p.in)
	}
	var newsToks [][]token
	if s.m.rules[r.index].shared {
		newsToks = news.toks
	}
	return s.matchPost(int32(r.index), pp, newsToks, news.texts)
}

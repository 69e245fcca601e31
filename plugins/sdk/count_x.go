package sdk

import (
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
	"golang.org/x/text/unicode/norm"
)

// X (Twitter) counts a post the way its open-source twitter-text library does with its
// version 3 configuration (twitter/twitter-text, config/v3.json): the text is normalised to
// NFC, every URL counts XURLLength whatever its length, every emoji (a sequence joined by
// ZWJ, with a skin tone, a flag, a keycap) counts 2, and every other code point counts 1
// if it lies in one of the ranges below (Latin, Greek, Cyrillic, Hebrew, Arabic, Indic
// scripts… and some punctuation) and 2 otherwise (CJK, most symbols). The limit is 280.
// The rules here are written from that configuration and from the behaviour its
// conformance suite (conformance/validate.yml and extract.yml) describes; the cases used
// are in testdata/twitter-text.json.

// XURLLength is what every URL counts for in a post on X (transformedURLLength).
const XURLLength = 23

// xLightRanges are the code points that weigh 1 (weight 100 on a scale of 100); all others
// weigh 2.
var xLightRanges = [...][2]rune{{0x0000, 0x10FF}, {0x2000, 0x200D}, {0x2010, 0x201F}, {0x2032, 0x2037}}

func xWeight(r rune) int {
	for _, rg := range xLightRanges {
		if r >= rg[0] && r <= rg[1] {
			return 1
		}
	}
	return 2
}

func countX(text string) int {
	rs := []rune(norm.NFC.String(text))
	n, from := 0, 0
	for _, u := range xURLs(rs) {
		n += xPlainWeight(rs[from:u[0]]) + XURLLength
		from = u[1]
	}
	return n + xPlainWeight(rs[from:])
}

// xPlainWeight weighs text without URLs: an emoji sequence counts 2, anything else by its
// code points.
func xPlainWeight(rs []rune) int {
	n := 0
	rest, state := string(rs), -1
	for rest != "" {
		var cluster string
		cluster, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if isEmojiSequence(cluster) {
			n += 2
			continue
		}
		for _, r := range cluster {
			n += xWeight(r)
		}
	}
	return n
}

// isEmojiSequence reports whether a grapheme cluster of several code points is one emoji
// for X (twitter-text finds them with twemoji's parser). A single code point is weighed by
// its range instead, which gives the same 2 for every emoji but © and ®, which twemoji
// only reads as emoji with a variation selector.
func isEmojiSequence(cluster string) bool {
	if utf8.RuneCountInString(cluster) < 2 {
		return false
	}
	rs := []rune(cluster)
	first := rs[0]
	switch {
	case first >= 0x1F1E6 && first <= 0x1F1FF: // a flag: two regional indicators
		return true
	case first >= '0' && first <= '9' || first == '#' || first == '*': // a keycap: 1⃣, #️⃣
		return strings.ContainsRune(cluster, 0x20E3)
	case !isPictographic(first):
		return false
	}
	for i, r := range rs[1:] {
		switch {
		case r == 0xFE0F, // emoji presentation
			r >= 0x1F3FB && r <= 0x1F3FF, // skin tone
			r >= 0xE0020 && r <= 0xE007F, // tag sequence (subdivision flags)
			r == 0x200D && i+2 < len(rs): // joined to a following emoji
			return true
		}
	}
	return false
}

// isPictographic approximates Unicode's Extended_Pictographic: the blocks emoji come from.
func isPictographic(r rune) bool {
	return r == 0xA9 || r == 0xAE || (r >= 0x2000 && r <= 0x3300) || (r >= 0x1F000 && r <= 0x1FAFF) || (r >= 0x1FC00 && r <= 0x1FFFD)
}

// xURLs returns the [start, end) rune positions of the URLs twitter-text would extract from
// rs: http(s) URLs, and domains without a protocol whose top-level domain exists, each
// with its port, path and query as far as they are URL characters and do not end in
// punctuation.
func xURLs(rs []rune) [][2]int {
	sc := &urlScanner{rs: rs, domains: map[int]int{}, tlds: map[[2]int]int{}}
	var urls [][2]int
	// earliest is where the next match may begin: twitter-text's expression consumes the
	// character before a URL, so a match starts at least one character after the last one
	// ended.
	earliest := 0
	for start := 0; start < len(rs); start++ {
		if start < earliest || (start > 0 && !urlMayFollow(rs[start-1])) {
			continue
		}
		m, ok := sc.matchURL(start)
		if !ok {
			continue
		}
		earliest = m.end + 1
		start = m.end // the loop moves on past the match, accepted or not
		urls = append(urls, sc.accept(m)...)
	}
	return urls
}

// urlScanner looks for URLs in rs. It remembers what it learnt about domains and top-level
// domains at each position: a text full of dots would otherwise be read again from every
// one of them.
type urlScanner struct {
	rs []rune
	// domains maps the start of a label to where the domain that starts there ends, or -1
	// when no domain does.
	domains map[int]int
	// tlds maps {position, limit} to where the top-level domain there ends, or -1.
	tlds map[[2]int]int
}

// urlMatch is one candidate found by matchURL, not yet checked as a whole.
type urlMatch struct {
	start, end           int // the whole candidate, protocol to query
	protocol             bool
	domainStart, domainE int
	hasPath              bool
}

// matchURL matches a candidate URL at start: an optional protocol, a domain that ends in a
// top-level domain, then an optional port, path and query. The protocol is tried first,
// as the optional group of twitter-text's expression would be.
func (sc *urlScanner) matchURL(start int) (urlMatch, bool) {
	rs := sc.rs
	for _, withProtocol := range []bool{true, false} {
		at := start
		if withProtocol {
			n := protocolLen(rs[start:])
			if n == 0 {
				continue
			}
			at += n
		}
		end, ok := sc.matchDomain(at)
		if !ok {
			continue
		}
		m := urlMatch{start: start, protocol: withProtocol, domainStart: at, domainE: end}
		if end+1 < len(rs) && rs[end] == ':' && isDigit(rs[end+1]) {
			end++
			for end < len(rs) && isDigit(rs[end]) {
				end++
			}
		}
		if end < len(rs) && rs[end] == '/' {
			m.hasPath = true
			end = matchPath(rs, end+1)
		}
		if end < len(rs) && rs[end] == '?' {
			end = matchQuery(rs, end)
		}
		m.end = end
		return m, true
	}
	return urlMatch{}, false
}

// accept applies the checks twitter-text makes on a whole candidate and returns the URLs
// it yields: none, one, or (for a domain without protocol that holds several ASCII
// domains between other letters) several.
func (sc *urlScanner) accept(m urlMatch) [][2]int {
	rs := sc.rs
	domain := string(rs[m.domainStart:m.domainE])
	if !domainLabelsValid(domain) || m.end-m.start+len("https://") > 4096 {
		return nil
	}
	if m.protocol {
		if end, ok := tcoEnd(rs, m.start, m.end); ok {
			return [][2]int{{m.start, end}}
		} else if end < 0 {
			return nil
		}
		return [][2]int{{m.start, m.end}}
	}
	if m.start > 0 && strings.ContainsRune("-_./", rs[m.start-1]) {
		return nil
	}
	// Without a protocol only the ASCII domains inside the domain count (example.com in
	// "中国語example.com"); the last one takes the path along.
	urls := sc.asciiDomains(m.domainStart, m.domainE)
	if len(urls) > 0 && m.hasPath {
		urls[len(urls)-1][1] = m.end
	}
	return urls
}

func protocolLen(rs []rune) int {
	if !hasPrefixFold(rs, "http") {
		return 0
	}
	for _, p := range []string{"http://", "https://"} {
		if hasPrefixFold(rs, p) {
			return len(p)
		}
	}
	return 0
}

// hasPrefixFold reports whether rs starts with the lower-case ASCII prefix, in any case.
func hasPrefixFold(rs []rune, prefix string) bool {
	if len(rs) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		r := rs[i]
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if r != rune(prefix[i]) {
			return false
		}
	}
	return true
}

// matchDomain matches subdomains and a domain name, each a label followed by a dot, then
// a top-level domain, taking as many labels as can still end in a top-level domain. It
// returns where the domain ends.
func (sc *urlScanner) matchDomain(at int) (int, bool) {
	if end, ok := sc.domains[at]; ok {
		return end, end >= 0
	}
	rs := sc.rs
	type label struct{ start, end int } // end is the dot
	var labels []label
	end := -1
	for p := at; ; {
		if e, ok := sc.domains[p]; ok {
			// The labels from here on were read from an earlier start: the longest domain
			// they give is the longest from this start too.
			end = e
			break
		}
		q := p
		for q < len(rs) && (isDomainChar(rs[q]) || rs[q] == '-' || rs[q] == '_') {
			q++
		}
		if q == p || q >= len(rs) || rs[q] != '.' || !isDomainChar(rs[p]) || !isDomainChar(rs[q-1]) {
			break
		}
		labels = append(labels, label{p, q})
		p = q + 1
	}
	found := len(labels) // the label the top-level domain follows; len: one further on, or none
	for k := len(labels) - 1; k >= 0 && end < 0; k-- {
		// Subdomains may hold underscores, the domain name before the top-level domain not.
		if containsRune(rs[labels[k].start:labels[k].end], '_') {
			continue
		}
		if e, ok := sc.tldAt(labels[k].end+1, len(rs)); ok {
			end, found = e, k
		}
	}
	// A start at a later label of the chain finds the same domain, or none if it starts
	// past that domain's name.
	sc.domains[at] = end
	for k, l := range labels {
		if k <= found {
			sc.domains[l.start] = end
		} else {
			sc.domains[l.start] = -1
		}
	}
	return end, end >= 0
}

// tldAt matches a top-level domain at rs[p:] that ends before limit and is followed by
// something that cannot continue it (not a letter or digit of ASCII, '@', '+' or '-'):
// the longest such that is one ("com" in "example.comだよ", "みんな", "vermögensberater").
// A punycode one (xn--…) is taken as written, as twitter-text does.
func (sc *urlScanner) tldAt(p, limit int) (int, bool) {
	key := [2]int{p, limit}
	if end, ok := sc.tlds[key]; ok {
		return end, end >= 0
	}
	end := sc.findTLD(p, limit)
	sc.tlds[key] = end
	return end, end >= 0
}

func (sc *urlScanner) findTLD(p, limit int) int {
	rs := sc.rs
	if p >= limit {
		return -1
	}
	if limit-p > 4 && hasPrefixFold(rs[p:limit], "xn--") {
		q := p + 4
		for q < limit && (isASCIIAlnum(rs[q]) || rs[q] == '-') {
			q++
		}
		if q > p+4 {
			return q
		}
		return -1
	}
	q := p
	for q < limit && q-p < 64 && isDomainChar(rs[q]) {
		q++
	}
	for ; q > p; q-- {
		if q < limit && (isASCIIAlnum(rs[q]) || rs[q] == '@' || rs[q] == '+' || rs[q] == '-') {
			continue // would go on past the top-level domain
		}
		if a, err := idna.Punycode.ToASCII(strings.ToLower(string(rs[p:q]))); err == nil && isTLD(a) {
			return q
		}
	}
	return -1
}

// isTLD reports whether tld (lower case, punycode) is a top-level domain: one in the ICANN
// section of the Public Suffix List, which follows IANA's root zone (twitter-text keeps
// its own copy of that list), or .onion, which twitter-text adds.
func isTLD(tld string) bool {
	if tld == "onion" {
		return true
	}
	// A name under it, so that rules such as "*.ck" apply to the top-level domain too.
	_, icann := publicsuffix.PublicSuffix("example." + tld)
	return icann
}

// domainLabelsValid is twitter-text's check of a domain: each label 1 to 63 characters
// once punycode-encoded, and a domain written in punycode holds only ASCII.
func domainLabelsValid(domain string) bool {
	if strings.HasPrefix(domain, "xn--") {
		for _, r := range domain {
			if r > 0x7F {
				return false
			}
		}
	}
	for _, l := range strings.Split(domain, ".") {
		a, err := idna.Punycode.ToASCII(l)
		if err != nil || len(a) < 1 || len(a) > 63 {
			return false
		}
	}
	return true
}

// tcoEnd handles t.co links: only the slug (at most 40 letters and digits) and a query
// belong to them. ok is false for a URL that is not a t.co link; end is -1 for one whose
// slug is too long, which is no URL at all.
func tcoEnd(rs []rune, start, end int) (int, bool) {
	s := string(rs[start:end])
	p := protocolLen(rs[start:end])
	if !strings.HasPrefix(strings.ToLower(s[p:]), "t.co/") {
		return 0, false
	}
	q := start + p + len("t.co/")
	slug := q
	for q < end && isASCIIAlnum(rs[q]) {
		q++
	}
	if q == slug {
		return 0, false
	}
	if q-slug > 40 {
		return -1, false
	}
	if q < end && rs[q] == '?' {
		q = matchQuery(rs, q)
	}
	return q, true
}

// asciiDomains finds, inside rs[from:to], the domains made of ASCII letters, digits,
// hyphens and Latin accented letters that end in a top-level domain.
func (sc *urlScanner) asciiDomains(from, to int) [][2]int {
	var out [][2]int
	for p := from; p < to; {
		end, ok := sc.asciiDomainAt(p, to)
		if !ok {
			p++
			continue
		}
		out = append(out, [2]int{p, end})
		p = end
	}
	return out
}

func (sc *urlScanner) asciiDomainAt(p, limit int) (int, bool) {
	rs := sc.rs
	var dots []int
	for q := p; ; {
		r := q
		for r < limit && (isASCIIAlnum(rs[r]) || rs[r] == '-' || isLatinAccent(rs[r])) {
			r++
		}
		if r == q || r >= limit || rs[r] != '.' {
			break
		}
		dots = append(dots, r)
		q = r + 1
	}
	for k := len(dots) - 1; k >= 0; k-- {
		if end, ok := sc.tldAt(dots[k]+1, limit); ok {
			return end, true
		}
	}
	return 0, false
}

// matchPath returns where a URL's path that starts at p (after its '/') ends: as far as
// path characters and balanced parentheses go, then back to the last character a path may
// end with, so that "example.com/a." and "example.com/a!!!" end at the "a".
func matchPath(rs []rune, p int) int {
	end := p
	for q := p; q < len(rs); {
		switch {
		case rs[q] == '(':
			n := balancedParens(rs[q:])
			if n == 0 {
				return end
			}
			q += n
			end = q
		case isPathChar(rs[q]):
			if isPathEndChar(rs[q]) {
				end = q + 1
			}
			q++
		default:
			return end
		}
	}
	return end
}

// balancedParens matches "(…)" with path characters inside and at most one nested pair,
// and returns its length, or 0.
func balancedParens(rs []rune) int {
	q, nested := 1, false
	for q < len(rs) {
		switch {
		case isPathChar(rs[q]):
			q++
		case rs[q] == '(' && !nested:
			n := 1
			for q+n < len(rs) && isPathChar(rs[q+n]) {
				n++
			}
			if n == 1 || q+n >= len(rs) || rs[q+n] != ')' {
				return 0
			}
			q, nested = q+n+1, true
		case rs[q] == ')' && q > 1:
			return q + 1
		default:
			return 0
		}
	}
	return 0
}

// matchQuery returns where a query that starts with the '?' at p ends; a query with no
// character a query may end with is no query (the '?' is text).
func matchQuery(rs []rune, p int) int {
	end := p
	for q := p + 1; q < len(rs) && isQueryChar(rs[q]); q++ {
		if isQueryEndChar(rs[q]) {
			end = q + 1
		}
	}
	return end
}

// urlMayFollow reports whether a URL may start right after r: not after a letter or
// digit of ASCII, '@', '$' or '#' (so mentions, cashtags and hashtags are no URLs).
func urlMayFollow(r rune) bool {
	if isDirectional(r) {
		return true
	}
	return !(isASCIIAlnum(r) || strings.ContainsRune("@＠$#＃", r) || isInvalidX(r))
}

// isDomainChar: anything but punctuation, spaces, directional marks and the characters
// X refuses.
func isDomainChar(r rune) bool {
	if r < 0x80 {
		return !asciiPunct[r] && !isXSpace(r)
	}
	return !isXSpace(r) && !isInvalidX(r) && !isDirectional(r)
}

// asciiPunct is twitter-text's punctuation, which ends a domain label.
var asciiPunct = func() (t [0x80]bool) {
	for _, r := range `!'#%&()*+,\-./:;<=>?@[]^_{|}~$` {
		t[r] = true
	}
	return t
}()

func isXSpace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0D, r == 0x20, r == 0x85, r == 0xA0, r == 0x1680, r == 0x180E,
		r >= 0x2000 && r <= 0x200A, r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

// isInvalidX reports the characters X refuses in a post (U+FFFE, U+FEFF, U+FFFF).
func isInvalidX(r rune) bool { return r == 0xFFFE || r == 0xFEFF || r == 0xFFFF }

func isDirectional(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x2066 && r <= 0x2069)
}

func isPathChar(r rune) bool {
	return isASCIIAlnum(r) || isCyrillic(r) || isLatinAccent(r) || strings.ContainsRune("!*';:=+,.$/%#[]-\u2013_~@|&", r)
}

func isPathEndChar(r rune) bool {
	return isASCIIAlnum(r) || isCyrillic(r) || isLatinAccent(r) || strings.ContainsRune("+-=_#/", r)
}

func isQueryChar(r rune) bool {
	return isASCIIAlnum(r) || strings.ContainsRune("!?*'@();:&=+$/%#[]-_.,~|", r)
}

func isQueryEndChar(r rune) bool { return isASCIIAlnum(r) || strings.ContainsRune("-_&=#/", r) }

func isCyrillic(r rune) bool { return r >= 0x0400 && r <= 0x04FF }

func isLatinAccent(r rune) bool {
	switch {
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x24F,
		r >= 0x300 && r <= 0x36F, r >= 0x1E00 && r <= 0x1EFF:
		return true
	}
	return strings.ContainsRune("\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268\u026F\u0272\u0289\u028B\u02BB", r)
}

func isASCIIAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || isDigit(r)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func containsRune(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

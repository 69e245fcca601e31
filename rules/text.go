package rules

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// token is one normalised word of a text (or one emoji), with what the shared-names
// feature needs to know about how it was written.
type token struct {
	// Word is the folded form: NFKD, marks removed, lower case ("écrasé" -> "ecrase").
	Word string
	// Lower is the lower-cased form with accents kept: stemmers work better on it.
	Lower string
	// Cap: the word began with an upper-case letter. AllCaps: every letter was upper case.
	Cap, AllCaps bool
	// Initial: the word starts the text or follows sentence punctuation, so its capital
	// says nothing about it being a name.
	Initial bool
	// Hashtag: the word came from a #hashtag.
	Hashtag bool
}

// frenchClitics are the elided words that stand before an apostrophe in French
// (l'avion, s'est, d'un, qu'il, jusqu'à): dropped so that "s'écraser" is the word "écraser".
var frenchClitics = map[string]bool{
	"l": true, "d": true, "s": true, "j": true, "m": true, "n": true, "t": true, "c": true,
	"qu": true, "jusqu": true, "lorsqu": true, "puisqu": true, "quoiqu": true, "presqu": true,
}

// englishEndings are what follows an apostrophe in English (Women's, don't, we'll):
// dropped so that "Manchester's" is the word "manchester".
var englishEndings = map[string]bool{"s": true, "t": true, "ll": true, "re": true, "ve": true, "d": true, "m": true}

func isApostrophe(r rune) bool {
	return r == '\'' || r == '’' || r == 'ʼ' || r == '‘' || r == '`' || r == '´'
}

// isEmoji reports whether r is a pictographic symbol worth matching on its own (🔥, 💥, 🎆).
// Variation selectors, joiners, skin tones and flag letters are not words.
func isEmoji(r rune) bool {
	if r < 0x2100 {
		return false
	}
	if r >= 0x1F1E6 && r <= 0x1F1FF { // regional indicators (flags)
		return false
	}
	if r >= 0x1F3FB && r <= 0x1F3FF { // skin tones
		return false
	}
	return unicode.Is(unicode.So, r)
}

// tokenize splits text into normalised words: letters and digits make words; apostrophes
// split French elisions and English endings; hyphens and all other punctuation separate
// words; hashtags are split at their capitals (#SummerInLondon -> summer in london); each
// emoji is a word of its own; links are skipped. It never fails: any string gives some
// (maybe no) tokens.
func tokenize(text string) []token {
	toks := make([]token, 0, len(text)/5+1)
	initial := true
	hashtag := false
	i := 0
	for i < len(text) {
		if isLinkAt(text, i) {
			// A link's path is not prose: "example.com/crash-course" says nothing.
			for i < len(text) {
				r, size := utf8.DecodeRuneInString(text[i:])
				if unicode.IsSpace(r) {
					break
				}
				i += size
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			// A word runs over letters, digits, combining marks and inner apostrophes.
			start := i
			end := i
			for end < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[end:])
				if unicode.IsLetter(r2) || unicode.IsDigit(r2) || unicode.Is(unicode.Mn, r2) {
					end += s2
					continue
				}
				if isApostrophe(r2) && end+s2 < len(text) {
					r3, _ := utf8.DecodeRuneInString(text[end+s2:])
					if unicode.IsLetter(r3) {
						end += s2
						continue
					}
				}
				break
			}
			toks = appendWord(toks, text[start:end], initial, hashtag)
			initial = false
			hashtag = false
			i = end
			continue
		case r == '#':
			hashtag = true
		case isEmoji(r):
			// Folded like every word, so that a rule term written with the same symbol
			// matches it: compatibility forms decompose ("🄥" -> "(v)").
			word := fold(string(r))
			if word == "" {
				word = string(r)
			}
			toks = append(toks, token{Word: word, Lower: string(r)})
			hashtag = false
		case r == '.' || r == '!' || r == '?' || r == ';' || r == '…' || r == '•' || r == '|' || r == '\n':
			// Not ':' — in headlines what follows a colon is as often a name as not
			// ("Séisme en Italie : Amatrice rasée").
			initial = true
			hashtag = false
		case unicode.IsSpace(r):
			hashtag = false
		}
		i += size
	}
	return toks
}

// appendWord splits one raw word at its apostrophes (and, in a hashtag, at its capitals)
// and appends the resulting tokens.
func appendWord(toks []token, raw string, initial, hashtag bool) []token {
	if !hashtag && !strings.ContainsAny(raw, "'’ʼ‘`´") {
		return append(toks, makeToken(raw, initial, false))
	}
	parts := splitApostrophes(raw)
	for _, p := range parts {
		if hashtag {
			for _, q := range splitCamel(p) {
				toks = append(toks, makeToken(q, false, true))
			}
			continue
		}
		toks = append(toks, makeToken(p, initial, false))
		initial = false
	}
	return toks
}

// splitApostrophes turns "l'avion" into ["avion"], "Manchester's" into ["Manchester"],
// "aujourd'hui" into ["aujourd", "hui"].
func splitApostrophes(raw string) []string {
	var parts []string
	rest := raw
	for {
		j, size := -1, 0
		for k, r := range rest {
			if isApostrophe(r) {
				j, size = k, utf8.RuneLen(r)
				break
			}
		}
		if j < 0 {
			if rest != "" {
				parts = append(parts, rest)
			}
			return parts
		}
		before, after := rest[:j], rest[j+size:]
		switch {
		case frenchClitics[strings.ToLower(before)]:
			// drop the clitic, keep going with what follows
		case englishEndings[strings.ToLower(after)]:
			parts = append(parts, before)
			return parts
		default:
			parts = append(parts, before)
		}
		rest = after
	}
}

// splitCamel splits a hashtag word at lower-to-upper case changes: "StarWars" -> "Star", "Wars".
func splitCamel(s string) []string {
	var out []string
	start := 0
	var prev rune
	for k, r := range s {
		if k > start && unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)) {
			out = append(out, s[start:k])
			start = k
		}
		prev = r
	}
	return append(out, s[start:])
}

func makeToken(raw string, initial, hashtag bool) token {
	first, _ := utf8.DecodeRuneInString(raw)
	t := token{Cap: unicode.IsUpper(first), Initial: initial, Hashtag: hashtag}
	letters, upper := 0, 0
	for _, r := range raw {
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		}
	}
	t.AllCaps = letters >= 2 && upper == letters
	t.Lower = strings.ToLower(raw)
	t.Word = fold(t.Lower)
	return t
}

// specialFolds are letters NFKD does not decompose but readers treat as plain letters.
var specialFolds = strings.NewReplacer("œ", "oe", "æ", "ae", "ß", "ss", "ø", "o", "ł", "l", "đ", "d", "ð", "d", "þ", "th", "ı", "i")

// fold removes accents and folds case: NFKD, then drop the combining marks.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	s = strings.ToLower(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	// After NFKD, not before: decomposing can reveal one of these letters ("ǽ" -> "æ"),
	// and fold must give the same word however the letter was written.
	return specialFolds.Replace(b.String())
}

// isLinkAt reports whether a URL starts at byte i (at a word boundary).
func isLinkAt(text string, i int) bool {
	if i > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:i])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	rest := text[i:]
	for _, p := range []string{"https://", "http://", "www."} {
		if len(rest) >= len(p) && strings.EqualFold(rest[:len(p)], p) {
			return true
		}
	}
	return false
}

package rules

import (
	"strings"

	"github.com/abadojack/whatlanggo"
	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/french"
	"github.com/kljensen/snowball/hungarian"
	"github.com/kljensen/snowball/norwegian"
	"github.com/kljensen/snowball/russian"
	"github.com/kljensen/snowball/spanish"
	"github.com/kljensen/snowball/swedish"
)

// lang is a language we can stem, as an index into stemmers.
type lang int

const (
	langEN lang = iota
	langFR
	langES
	langSV
	langNO
	langHU
	langRU
	numLangs
)

// stemmers are the Snowball stemmers, one per lang.
var stemmers = [numLangs]func(string, bool) string{
	langEN: english.Stem,
	langFR: french.Stem,
	langES: spanish.Stem,
	langSV: swedish.Stem,
	langNO: norwegian.Stem,
	langHU: hungarian.Stem,
	langRU: russian.Stem,
}

var langCodes = [numLangs]string{"en", "fr", "es", "sv", "no", "hu", "ru"}

// whatlang maps the detector's languages onto ours; detection is limited to these.
var whatlang = map[whatlanggo.Lang]lang{
	whatlanggo.Eng: langEN,
	whatlanggo.Fra: langFR,
	whatlanggo.Spa: langES,
	whatlanggo.Swe: langSV,
	whatlanggo.Nob: langNO,
	whatlanggo.Hun: langHU,
	whatlanggo.Rus: langRU,
}

var detectOptions = func() whatlanggo.Options {
	o := whatlanggo.Options{Whitelist: map[whatlanggo.Lang]bool{}}
	for l := range whatlang {
		o.Whitelist[l] = true
	}
	return o
}()

// Languages lists the language codes the matcher stems (for docs and the CLI).
func Languages() []string { return append([]string(nil), langCodes[:]...) }

// parseLang maps a feed or item language ("en", "en-GB", "fr_FR", "French") to a lang.
func parseLang(s string) (lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, false
	}
	if i := strings.IndexAny(s, "-_"); i > 0 {
		s = s[:i]
	}
	switch s {
	case "english", "eng":
		return langEN, true
	case "french", "fra", "fre", "francais", "français":
		return langFR, true
	case "spanish", "spa":
		return langES, true
	case "nb", "nn":
		return langNO, true
	}
	for i, c := range langCodes {
		if c == s {
			return lang(i), true
		}
	}
	return 0, false
}

// languagesFor decides which stemmers to run on a text: the declared language when we
// stem it; else the detected one; else both English and French, the two languages every
// rule pack is written in. Running both on every text would be wrong: an English word
// stemmed as French can meet a French term ("shoot" and "shooter" stem alike in French).
func languagesFor(declared string, toks []token) []lang {
	if l, ok := parseLang(declared); ok {
		return []lang{l}
	}
	if l, conf := detect(toks); conf != confNone {
		return []lang{l}
	}
	return []lang{langEN, langFR}
}

// Detection confidence.
const (
	confNone = iota
	confWeak
	confSure
)

// cueWords are frequent English and French function words; counting them settles most
// headlines without running the trigram detector, and they are surer on short texts.
var cueWords = map[string]lang{
	"the": langEN, "and": langEN, "of": langEN, "to": langEN, "in": langEN, "is": langEN,
	"for": langEN, "with": langEN, "after": langEN, "as": langEN, "at": langEN, "from": langEN,
	"by": langEN, "this": langEN, "our": langEN, "your": langEN, "are": langEN,
	"was": langEN, "has": langEN, "have": langEN, "into": langEN, "off": langEN, "over": langEN,
	"will": langEN, "be": langEN, "its": langEN, "it": langEN, "that": langEN, "you": langEN,
	"we": langEN, "my": langEN, "can": langEN, "how": langEN, "before": langEN, "up": langEN,
	"le": langFR, "la": langFR, "les": langFR, "des": langFR, "du": langFR, "et": langFR,
	"un": langFR, "une": langFR, "dans": langFR, "sur": langFR, "pour": langFR, "au": langFR,
	"aux": langFR, "est": langFR, "avec": langFR, "par": langFR, "apres": langFR, "nous": langFR,
	"vous": langFR, "notre": langFR, "votre": langFR, "sous": langFR, "ses": langFR, "ont": langFR,
	"plus": langFR, "sont": langFR, "leur": langFR, "qui": langFR, "ete": langFR,
	"ce": langFR, "cette": langFR, "je": langFR, "il": langFR, "elle": langFR, "mais": langFR,
	"chez": langFR, "tout": langFR, "tous": langFR, "pas": langFR, "sa": langFR, "vos": langFR,
	"nos": langFR, "lors": langFR, "selon": langFR, "depuis": langFR, "ans": langFR,
	// Spanish cues only stop French ones ("la") from deciding a Spanish text.
	"el": langES, "los": langES, "las": langES, "del": langES, "por": langES, "con": langES,
	"una": langES, "y": langES, "muertos": langES, "tras": langES,
}

// detect guesses the language of a text: function-word counts first (cheap, reliable on
// headlines), then whatlanggo limited to the languages we stem.
func detect(toks []token) (lang, int) {
	guess, conf := cueLanguage(toks)
	if conf != confNone {
		// One cue word against none is trusted: the trigram detector costs more than
		// all the matching, and is no surer on a headline of a few words.
		return guess, conf
	}
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.Lower)
		b.WriteByte(' ')
	}
	info := whatlanggo.DetectWithOptions(b.String(), detectOptions)
	l, ok := whatlang[info.Lang]
	if !ok || info.Confidence < 0.5 {
		// The detector is unsure: a single cue word ("Alain Delon est mort à 88 ans")
		// is still the best guess.
		return guess, conf
	}
	// A weak detection of a language other than English or French on a short text is
	// more often wrong than right.
	if l != langEN && l != langFR && info.Confidence < 0.9 {
		return guess, conf
	}
	return l, confSure
}

// cueLanguage counts function words: two cues and twice the other language's settle it
// (confSure); a single cue against none is a weak guess (confWeak).
func cueLanguage(toks []token) (lang, int) {
	var en, fr, es int
	for _, t := range toks {
		switch l, ok := cueWords[t.Word]; {
		case !ok:
		case l == langEN:
			en++
		case l == langFR:
			fr++
		default:
			es++
		}
	}
	if es > 0 && es >= fr {
		return langEN, confNone // let the trigram detector decide
	}
	switch {
	case en >= 2 && en >= 2*fr:
		return langEN, confSure
	case fr >= 2 && fr >= 2*en:
		return langFR, confSure
	case en == 1 && fr == 0:
		return langEN, confWeak
	case fr == 1 && en == 0:
		return langFR, confWeak
	}
	return langEN, confNone
}

// stemWord stems one lower-cased word in l, then folds accents. French stems also lose a
// final e and a verb ending -ent, so that unaccented capitals ("ECRASEE", "S'ECRASENT")
// stem like their accented forms.
func stemWord(l lang, lower string) string {
	s := fold(stemmers[l](lower, false))
	if l == langFR {
		if len(s) > 6 && strings.HasSuffix(s, "ent") {
			s = s[:len(s)-3]
		}
		if len(s) > 3 && s[len(s)-1] == 'e' {
			s = s[:len(s)-1]
		}
	}
	return s
}

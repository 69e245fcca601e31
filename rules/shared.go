package rules

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Shared names: many clashes are made by what the post and the news share, not by a word
// list: the same place (a Lahaina luau during the Lahaina fire), person or club, product
// (a "Titanic" escape game while a submersible is lost at the wreck). A word is a name
// when it is written with a capital where a capital says something: not at the start of
// a sentence, not in a headline written all in capitals or in Title Case. A shared word
// counts when it is a name on at least one side and not a common word (sharedStop).
//
// Names also match by a long common beginning, so that a dish or demonym made from a
// place name is found ("amatriciana" and "Amatrice", "Londoner" and "London").

// nameStrength classifies the tokens of one text: strong[i] is true when token i is
// written as a name in a text whose capitals can be trusted; lower[i] when it is written
// in lower case there; initial[i] when it is capitalised only because it starts a sentence
// (a weak sign, but the same word starting a sentence on both sides is a name: "Lakers
// legend dies" and "Lakers jerseys 20% off").
func nameStrength(toks []token) (strong, lower, initial []bool) {
	letters, allCaps, longWords, longCaps := 0, 0, 0, 0
	for _, t := range toks {
		r, _ := utf8.DecodeRuneInString(t.Word)
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		if t.AllCaps {
			allCaps++
		}
		if utf8.RuneCountInString(t.Word) >= 4 && !sharedStop[t.Word] {
			longWords++
			if t.Cap {
				longCaps++
			}
		}
	}
	shouting := letters > 0 && allCaps*10 >= letters*6
	titled := !shouting && longWords >= 5 && longCaps*10 >= longWords*8
	strong = make([]bool, len(toks))
	lower = make([]bool, len(toks))
	initial = make([]bool, len(toks))
	for i, t := range toks {
		r, _ := utf8.DecodeRuneInString(t.Word)
		lower[i] = !shouting && unicode.IsLetter(r) && !t.Cap && !t.Hashtag
		initial[i] = !shouting && !titled && t.Cap && t.Initial && !t.Hashtag
		switch {
		case t.Hashtag:
			strong[i] = t.Cap
		case shouting || titled:
		case t.AllCaps:
			// Acronyms (JFK, AZF) are names; a shouted long word ("EXPLOSIVE") is emphasis.
			strong[i] = utf8.RuneCountInString(t.Word) <= 4 && !t.Initial
		case t.Cap && !t.Initial:
			strong[i] = true
		}
	}
	return strong, lower, initial
}

// nameCandidate: could this word be a meaningful shared name at all?
func nameCandidate(w string) bool {
	n := 0
	digits := true
	for _, r := range w {
		n++
		if !unicode.IsDigit(r) {
			digits = false
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return n >= 3 && !digits && !sharedStop[w]
}

// sharedNames returns the names the post (text and topics) shares with any news text.
func sharedNames(post []token, topics [][]token, news [][]token) []string {
	names := map[string]bool{}    // news word -> written as a strong name somewhere
	common := map[string]bool{}   // news words written in lower case mid-sentence
	initCaps := map[string]bool{} // news words capitalised at the start of a sentence
	for _, toks := range news {
		strong, lower, initial := nameStrength(toks)
		for i, t := range toks {
			if !nameCandidate(t.Word) {
				continue
			}
			names[t.Word] = names[t.Word] || strong[i]
			if lower[i] {
				common[t.Word] = true
			}
			if initial[i] {
				initCaps[t.Word] = true
			}
		}
	}
	// A word the news itself writes in lower case is a common word there ("historic"),
	// whatever capitals the post gives it.
	for w := range common {
		if !names[w] {
			delete(names, w)
		}
	}
	if len(names) == 0 {
		return nil
	}
	var long []string
	for w := range names {
		if len(w) >= 6 {
			long = append(long, w)
		}
	}
	sort.Strings(long)
	found := map[string]bool{}
	check := func(t token, strong, initial bool) {
		if !nameCandidate(t.Word) {
			return
		}
		if s, ok := names[t.Word]; ok {
			if s || strong || (initial && initCaps[t.Word]) {
				found[t.Word] = true
			}
			return
		}
		if len(t.Word) < 6 {
			return
		}
		for _, w := range long {
			if (names[w] || strong) && sameRoot(w, t.Word) {
				found[w] = true
			}
		}
	}
	strong, _, initial := nameStrength(post)
	for i, t := range post {
		check(t, strong[i], initial[i])
	}
	// Campaign topics are labels an admin chose ("hotel deals (New Orleans)"), often
	// lower-cased by the time they reach us: their words count as written names.
	for _, tt := range topics {
		for _, t := range tt {
			check(t, true, false)
		}
	}
	out := make([]string, 0, len(found))
	for w := range found {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// sameRoot: two words share a beginning of at least six letters that covers all but at
// most the last letter of the shorter ("amatrice"/"amatriciana", "london"/"londoner").
func sameRoot(a, b string) bool {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	short := min(len(a), len(b))
	return n >= 6 && n >= short-1
}

// sharedStop are words too common to make a post and a news item "about the same thing"
// even when capitalised: function words, calendar words, and the generic words of
// headlines and adverts, in English and French.
var sharedStop = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(sharedStopWords) {
		m[w] = true
	}
	return m
}()

const sharedStopWords = `
the and for with from into onto over under after before about above below between this that these those
there their they them then than when where what which while who whom whose why how your yours our ours
you we she her his him its are was were been being have has had having will would shall should can could
may might must not nor but all any both each few more most other some such only own same too very just
now also out off again once here per via upon within without across along around against among during
until since because though although unless whether either neither every much many lot lots one two three
four five six seven eight nine ten hundred thousand million billion first second third last next new old
big bigger biggest small great good best better top high low full half long short early late
les des une dans sur pour par avec sans sous chez vers entre depuis pendant avant apres contre selon
mais donc car que qui quoi dont leur leurs notre nos votre vos son ses mon mes ton tes cette ces cet
aux est sont etait ont avait sera fait faire plus moins tres tout tous toute toutes rien peu aussi encore
deja bien comme alors ainsi elle elles ils nous vous lui eux meme autre autres chaque quelque premier
premiere dernier derniere nouveau nouvelle nouveaux nouvelles grand grande grands grandes petit petite
monday tuesday wednesday thursday friday saturday sunday weekend week weeks day days night nights today
tonight tomorrow yesterday morning evening afternoon year years month months hour hours minute minutes
january february march april june july august september october november december
lundi mardi mercredi jeudi vendredi samedi dimanche semaine semaines jour jours nuit nuits soir soiree
matin annee annees mois heure heures janvier fevrier mars avril mai juin juillet aout septembre octobre
novembre decembre
summer winter spring autumn fall season holiday holidays christmas easter ete hiver printemps automne
saison vacances noel paques
free sale sales deal deals offer offers discount save savings off price prices only now book booking
order shop store stores buy get try join meet win enjoy discover explore visit fly travel go come see
watch read learn click link bio online app download tickets ticket gratuit offert offerte offre offres
soldes promo prix tarif reserver reservez reservation commander decouvrez venez profitez
news live breaking update latest report reports says said video photo photos watch official
world city town state states country national international local north south east west northern southern
eastern western central nord sud est ouest monde ville pays national nationale
people family families kids children child man men woman women police government minister president
king queen prince princess royal mr mrs ms dr sir lady
dead death deaths killed kill dies died toll least more than morts mort tues blesses victimes
street road avenue park market center centre station airport hotel beach bay port island lake river
mount saint st grand great rue place pont gare aeroport plage lac riviere ile
club bar restaurant cafe pub hall house home team group company inc ltd limited edition collection
pro max plus premium line black white red blue green gold silver
french english british american european france europe international launch launches
air flight flights fly cruise ship boat train fire crash camp storm war
`

// aliasIndex holds the [[alias]] groups of a set: names for the same thing in different
// languages or forms ("Brussels", "Bruxelles"; "Lebanon", "Liban", "Lebanese", "libanais").
// A text mentioning any name of a group shares that group with any other text mentioning
// any of its names. Names are matched as folded words, without stemming.
type aliasIndex struct {
	first  map[string][]aliasEntry // first folded word -> entries starting with it
	groups [][]string              // group -> its names as written
}

type aliasEntry struct {
	words []string
	group int
	// capital: the name was written with a capital, so it only matches a word written
	// with one ("Polish" the nationality, not "polish" the product).
	capital bool
}

func newAliasIndex(groups [][]string) *aliasIndex {
	ai := &aliasIndex{first: map[string][]aliasEntry{}, groups: groups}
	for g, names := range groups {
		for _, n := range names {
			toks := tokenize(n)
			words := make([]string, len(toks))
			for i, t := range toks {
				words[i] = t.Word
			}
			e := aliasEntry{words: words, group: g, capital: toks[0].Cap}
			ai.first[words[0]] = append(ai.first[words[0]], e)
		}
	}
	return ai
}

// find adds the groups named in the tokens. Topic words (lower-cased labels) need no
// capitals.
func (ai *aliasIndex) find(toks []token, topic bool, into map[int]bool) {
	if ai == nil || len(ai.first) == 0 {
		return
	}
	for i := range toks {
		for _, e := range ai.first[toks[i].Word] {
			if i+len(e.words) > len(toks) {
				continue
			}
			if e.capital && !topic && !toks[i].Cap {
				continue
			}
			match := true
			for k := 1; k < len(e.words); k++ {
				if toks[i+k].Word != e.words[k] {
					match = false
					break
				}
			}
			if match {
				into[e.group] = true
			}
		}
	}
}

// sharedAliases returns the first name of each alias group named on both sides.
func (ai *aliasIndex) shared(post []token, topics [][]token, news [][]token) []string {
	if ai == nil || len(ai.first) == 0 {
		return nil
	}
	inNews := map[int]bool{}
	for _, n := range news {
		ai.find(n, false, inNews)
	}
	if len(inNews) == 0 {
		return nil
	}
	inPost := map[int]bool{}
	ai.find(post, false, inPost)
	for _, t := range topics {
		ai.find(t, true, inPost)
	}
	var out []string
	for g := range inPost {
		if inNews[g] {
			out = append(out, ai.groups[g][0])
		}
	}
	sort.Strings(out)
	return out
}

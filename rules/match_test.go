package rules

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// mustSet parses one rule file given as TOML.
func mustSet(t testing.TB, toml string) *Set {
	t.Helper()
	set, err := Parse(map[string][]byte{"test.toml": []byte(toml)})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func newsRule(news string) string {
	return "[[rule]]\nid = \"r\"\naction = \"pause\"\n[rule.news]\n" + news + "\n[rule.posts]\ntopics = [\"travel\"]\n"
}

func TestTokenize(t *testing.T) {
	cases := map[string][]string{
		"L'A320 s’est écrasé!":            {"a320", "est", "ecrase"},
		"qu'il jusqu'à d'un":              {"il", "a", "un"},
		"Manchester's women's don't":      {"manchester", "women", "don"},
		"Lac-Mégantic, crash-landed":      {"lac", "megantic", "crash", "landed"},
		"#SummerInLondon #PrayForMaui":    {"summer", "in", "london", "pray", "for", "maui"},
		"Œuvre, Straße, ÉCOLES FERMÉES":   {"oeuvre", "strasse", "ecoles", "fermees"},
		"🔥 Hot ✈️ deals 🇫🇷":               {"🔥", "hot", "✈", "deals"},
		"aujourd'hui":                     {"aujourd", "hui"},
		"Covid-19: 1,200 cases":           {"covid", "19", "1", "200", "cases"},
		"e\u0301crase\u0301 (decomposed)": {"ecrase", "decomposed"},
	}
	for in, want := range cases {
		var got []string
		for _, tk := range tokenize(in) {
			got = append(got, tk.Word)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("tokenize(%q) = %q, want %q", in, got, want)
		}
	}
}

// The matching semantics of SPEC 4, one behaviour a row.
func TestMatchNewsSemantics(t *testing.T) {
	cases := []struct {
		name  string
		rule  string
		text  string
		lang  string
		match bool
	}{
		{"inflection crashed", `any = ["crash"]`, "Jet crashed near Lyon", "", true},
		{"inflection crashes", `any = ["crash"]`, "Lion Air jet crashes into sea", "", true},
		{"not a substring", `any = ["crash"]`, "Crashpad startup raises $5m", "", false},
		{"french reflexive", `any = ["s'écraser"]`, "L'avion s'est écrasé près de Nice", "", true},
		{"french plural verb", `any = ["s'écraser"]`, "Deux avions s'écrasent en Alaska", "", true},
		{"all caps no accents", `any = ["s'écraser"]`, "L'A320 DE GERMANWINGS S'EST ECRASE", "", true},
		{"accent folding both ways", `any = ["seisme"]`, "Séisme en Italie", "", true},
		{"phrase in order", `any = ["plane crash"]`, "Plane crash in the Andes", "", true},
		{"phrase out of order", `any = ["plane crash"]`, "Crash of a toy plane", "", false},
		{"phrase words apart", `any = ["plane crash"]`, "Plane makers see crash in orders", "", false},
		{"hyphen equals space", `any = ["crash-landed"]`, "Airliner crash landed in Perth", "", true},
		{"space equals hyphen", `any = ["crash landed"]`, "Airliner crash-landed in Perth", "", true},
		{"elision with typographic apostrophe", `any = ["l'avion"]`, "Dans l’avion, la panique", "", true},
		{"all must appear", "any = [\"crash\"]\nall = [\"plane\", \"dead\"]", "Plane crash: 12 dead", "", true},
		{"all missing one", "any = [\"crash\"]\nall = [\"plane\", \"dead\"]", "Plane crash, all survive", "", false},
		{"with: one of them", "any = [\"crash\"]\nwith = [\"jet\", \"helicopter\"]", "Helicopter crash in Calabasas", "", true},
		{"with: none of them", "any = [\"crash\"]\nwith = [\"jet\", \"helicopter\"]", "Website crash angers fans", "", false},
		{"not covers the term", "any = [\"crash\"]\nnot = [\"crash course\"]", "Crash course in French", "", false},
		{"not covers only its own words", "any = [\"crash\"]\nnot = [\"crash course\"]", "After the crash course, a plane crash", "", true},
		{"not covers with-terms too", "any = [\"storm\"]\nwith = [\"dead\"]\nnot = [\"dead heat\"]", "Storm ends in a dead heat", "", false},
		{"unless anywhere", "any = [\"crash\"]\nunless = [\"years ago\"]", "Thirty years ago a jet crashed", "", false},
		{"declared language used", `any = ["inondations"]`, "Inondations meurtrières", "fr", true},
		{"both languages when unsure", `any = ["incendie"]`, "Incendies", "", true},
		{"emoji term", `any = ["🔥"]`, "Hot 🔥 deals", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set := mustSet(t, newsRule(c.rule))
			got := set.MatchNews(Text{Title: c.text, Language: c.lang})
			if (len(got) == 1) != c.match {
				t.Fatalf("MatchNews(%q) with %s = %v, want match %v", c.text, c.rule, got, c.match)
			}
		})
	}
}

func TestMatchNewsReportsTermsAndSummary(t *testing.T) {
	set := mustSet(t, newsRule("any = [\"crash\", \"wreckage\"]\nwith = [\"Boeing\"]"))
	got := set.MatchNews(Text{Title: "Lone survivor walked from the wreckage", Summary: "He was aboard the Boeing 787 that crashed in Ahmedabad."})
	if len(got) != 1 {
		t.Fatalf("summary not matched: %v", got)
	}
	if !reflect.DeepEqual(got[0].Terms, []string{"wreckage", "crash"}) || !reflect.DeepEqual(got[0].Also, []string{"Boeing"}) {
		t.Errorf("terms %q also %q", got[0].Terms, got[0].Also)
	}
	if got[0].Rule.MinSources != 1 {
		t.Errorf("MinSources %d", got[0].Rule.MinSources)
	}
}

const postRule = `[[rule]]
id = "p"
action = "pause"
[rule.news]
any = ["wildfire"]
[rule.posts]
topics = ["travel", "air-travel"]
any = ["smoky", "fire"]
not = ["fire sale"]
unless = ["donate"]
shared = ["names"]
`

func TestMatchPostSemantics(t *testing.T) {
	set := mustSet(t, postRule)
	r := set.Rule("p")
	news := []Text{{Title: "Maui wildfire: historic Lahaina town burned to the ground"}}
	cases := []struct {
		name   string
		post   PostInput
		match  bool
		reason string
	}{
		{"topic word", PostInput{Topics: []string{"Air travel promotion"}}, true, `topic "air-travel", "travel"`},
		{"hyphenated topic matches words", PostInput{Topics: []string{"air-travel-deals"}}, true, `topic "air-travel", "travel"`},
		{"no topic", PostInput{Topics: []string{"accounting"}}, false, ""},
		{"term stemmed", PostInput{Text: "Our smokiest, smoky jerky"}, true, `post says "smoky"`},
		{"not covers", PostInput{Text: "Fire sale on sofas"}, false, ""},
		{"unless", PostInput{Text: "Smoky jerky: donate a bag"}, false, ""},
		{"shared place", PostInput{Text: "Aloha from Lahaina! Sunset luau on Front Street"}, true, `shares "lahaina" with the news`},
		{"shared common word is not a name", PostInput{Text: "Our Historic Town walking tour"}, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pm, ok := set.MatchPost(r, c.post, news)
			if ok != c.match {
				t.Fatalf("MatchPost(%+v) = %v %+v, want %v", c.post, ok, pm, c.match)
			}
			if ok && pm.Reason() != c.reason {
				t.Errorf("reason %q, want %q", pm.Reason(), c.reason)
			}
		})
	}
	// A rule of another set is refused rather than misread.
	other := mustSet(t, postRule)
	if _, ok := set.MatchPost(other.Rule("p"), PostInput{Topics: []string{"travel"}}, news); ok {
		t.Error("MatchPost accepted a rule from another set")
	}
}

func TestSharedNames(t *testing.T) {
	cases := []struct {
		news, post string
		topics     []string
		want       []string
	}{
		{"Maui wildfire: Lahaina burned", "Aloha from Lahaina!", nil, []string{"lahaina"}},
		// A dish named after the town: long common beginning.
		{"Séisme en Italie : Amatrice rasée", "Spaghetti all'amatriciana ce soir", nil, []string{"amatrice"}},
		// All-caps headline: the post's capital says it is a name.
		{"ROUEN : INCENDIE A L'USINE LUBRIZOL", "Run club du dimanche à Rouen", nil, []string{"rouen"}},
		// Topics are written names even when lower-cased.
		{"KATRINA'S FURY: 80% OF NEW ORLEANS UNDER WATER", "Big Easy, big savings", []string{"hotel deals (new orleans)"}, []string{"orleans"}},
		// Capitalised common words are not names.
		{"Queen dies on Friday", "Friday brunch for the Queen's fans", nil, nil},
		// Shouted words on both sides are not names.
		{"WATER EVERYWHERE", "WATER PARK DEALS", nil, nil},
		{"Star Wars actress dies", "May the buns be with you #StarWars", nil, []string{"star", "wars"}},
	}
	for _, c := range cases {
		var topics [][]token
		for _, tp := range c.topics {
			topics = append(topics, tokenize(tp))
		}
		got := sharedNames(tokenize(c.post), topics, [][]token{tokenize(c.news)})
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("sharedNames(%q, %q) = %q, want %q", c.news, c.post, got, c.want)
		}
	}
}

func TestEvaluateExplains(t *testing.T) {
	set := mustSet(t, postRule)
	vs := set.Evaluate(Text{Title: "Wildfire near Lahaina"}, PostInput{Text: "Lahaina luau, fire dancers", Topics: []string{"events"}})
	if len(vs) != 1 || vs[0].Rule.ID != "p" {
		t.Fatalf("verdicts %+v", vs)
	}
	why := vs[0].Why()
	for _, w := range []string{`news says "wildfire"`, `post says "fire"`, `shares "lahaina"`} {
		if !strings.Contains(why, w) {
			t.Errorf("why %q lacks %q", why, w)
		}
	}
	if vs := set.Evaluate(Text{Title: "Markets calm"}, PostInput{Text: "Lahaina luau"}); len(vs) != 0 {
		t.Errorf("nothing should fire: %+v", vs)
	}
}

func TestRunCaseExpectations(t *testing.T) {
	set := mustSet(t, postRule)
	fire := Case{Name: "fires", News: "Wildfire spreads", Post: "Smoky jerky"}
	quiet := Case{Name: "quiet", News: "Markets calm", Post: "Smoky jerky"}
	for _, c := range []struct {
		c      Case
		expect []string
		pass   bool
	}{
		{fire, []string{"p"}, true},
		{fire, []string{"*"}, true},
		{fire, []string{}, false},
		{quiet, []string{}, true},
		{quiet, []string{"*"}, false},
		{quiet, []string{"p"}, false},
	} {
		c.c.Expect = c.expect
		res := set.RunCase(c.c)
		if res.Passed != c.pass {
			t.Errorf("%s expect %v: passed %v (fired %v, why %s)", c.c.Name, c.expect, res.Passed, res.Fired, res.Why)
		}
		if res.Fired == nil || res.Expected == nil {
			t.Errorf("Fired and Expected must be non-nil for JSON []")
		}
	}
}

// A Set is shared by the watcher, the API and the publisher at once.
func TestConcurrentMatching(t *testing.T) {
	set := mustSet(t, postRule)
	done := make(chan []Verdict)
	for g := 0; g < 8; g++ {
		go func() {
			var last []Verdict
			for i := 0; i < 200; i++ {
				last = set.Evaluate(Text{Title: fmt.Sprintf("Wildfire near Lahaina, day %d", i)}, PostInput{Text: "Smoky jerky from Lahaina"})
			}
			done <- last
		}()
	}
	for g := 0; g < 8; g++ {
		if vs := <-done; len(vs) != 1 {
			t.Errorf("goroutine %d: %d verdicts", g, len(vs))
		}
	}
}

func TestAliasesShareNamesAcrossLanguages(t *testing.T) {
	set := mustSet(t, postRule+"\n[[alias]]\nnames = [\"Brussels\", \"Bruxelles\"]\n[[alias]]\nnames = [\"Lebanon\", \"Liban\", \"libanais\"]\n")
	r := set.Rule("p")
	pm, ok := set.MatchPost(r, PostInput{Text: "Brussels for the weekend"}, []Text{{Title: "Incendie de forêt près de Bruxelles"}})
	if !ok || !reflect.DeepEqual(pm.Shared, []string{"Brussels"}) {
		t.Errorf("Brussels/Bruxelles: %v %+v", ok, pm)
	}
	pm, ok = set.MatchPost(r, PostInput{Text: "Notre restaurant libanais fête ses 5 ans"}, []Text{{Title: "Wildfire in Lebanon"}})
	if !ok || !reflect.DeepEqual(pm.Shared, []string{"Lebanon"}) {
		t.Errorf("Lebanon/libanais: %v %+v", ok, pm)
	}
	if _, ok := set.MatchPost(r, PostInput{Text: "Weekend in Lisbon"}, []Text{{Title: "Wildfire near Bruxelles"}}); ok {
		t.Error("different places must not be shared")
	}
}

func TestLanguageChoice(t *testing.T) {
	cases := []struct {
		text, declared string
		want           []lang
	}{
		{"Jetliner crashes after take-off in Ahmedabad", "", []lang{langEN}},
		{"Le Concorde s'écrase sur un hôtel de Gonesse", "", []lang{langFR}},
		{"Alain Delon est mort à 88 ans", "", []lang{langFR}},
		{"Book your family photo shoot before Christmas", "", []lang{langEN}},
		{"CATASTROPHE AERIENNE DANS LES ALPES", "", []lang{langFR}},
		{"anything at all", "fr-FR", []lang{langFR}},
		{"anything at all", "es", []lang{langES}},
		{"Kobe Bryant", "", []lang{langEN, langFR}},
	}
	for _, c := range cases {
		if got := languagesFor(c.declared, tokenize(c.text)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("languagesFor(%q, %q) = %v, want %v", c.declared, c.text, got, c.want)
		}
	}
}

func TestAliasCapitals(t *testing.T) {
	set := mustSet(t, postRule+"\n[[alias]]\nnames = [\"Poland\", \"Polish\", \"polonais\"]\n")
	r := set.Rule("p")
	news := []Text{{Title: "Wildfire spreads in Poland"}}
	if _, ok := set.MatchPost(r, PostInput{Text: "New nail polish in twelve shades"}, news); ok {
		t.Error(`"polish" the product matched "Polish"`)
	}
	if _, ok := set.MatchPost(r, PostInput{Text: "Our Polish dumplings are back"}, news); !ok {
		t.Error(`"Polish" did not match Poland`)
	}
	if _, ok := set.MatchPost(r, PostInput{Text: "Des pierogis polonais ce soir"}, news); !ok {
		t.Error(`lower-case alias "polonais" did not match`)
	}
}

package rules

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

// benchHeadlines are realistic headlines, English and French, some matching, most not.
var benchHeadlines = []string{
	"Air India Boeing 787 bound for London crashes minutes after take-off from Ahmedabad",
	"Royal Mail to scrap second-class Saturday deliveries under Ofcom plan",
	"Death toll in Turkey and Syria quake passes 20,000",
	"England's Lionesses reach Euro 2025 final after extra-time win over Italy",
	"Maui wildfire: historic Lahaina town 'burned to the ground' as death toll rises",
	"Ticketmaster site crashes as millions queue for Oasis reunion tickets",
	"Helene's catastrophic flooding cuts off Asheville; dozens dead in western North Carolina",
	"Glastonbury 2025 line-up: The 1975, Neil Young and Olivia Rodrigo to headline",
	"Truck ploughs into Bastille Day crowd in Nice, killing at least 80",
	"World's largest cruise ship, Icon of the Seas, sets sail on maiden voyage",
	"Rail fares in England to rise by 4.6% in March",
	"Melbourne Storm beat Penrith to win NRL grand final",
	"CATASTROPHE AERIENNE DANS LES ALPES : L'A320 DE GERMANWINGS S'EST ECRASE",
	"Vol spectaculaire au Louvre : des joyaux de la Couronne dérobés en quelques minutes",
	"Krach à Tokyo : le Nikkei s'effondre de 12,4 %, pire séance depuis 1987",
	"Tempête Ciarán : rafales à plus de 200 km/h en Bretagne",
	"Incendies en Gironde : plus de 20 000 hectares partis en fumée à Landiras",
	"Ligue 1 : le PSG sacré champion de France pour la 13e fois",
	"Énergie : l'explosion des factures met les boulangers à genoux",
	"Alain Delon est mort à 88 ans",
}

// benchWords is a vocabulary for generated rules: real words, so stems collide as in life,
// plus made-up ones, so 1,000 rules have mostly distinct terms.
func benchWords(r *rand.Rand, n int) []string {
	base := strings.Fields(`crash plane jet storm flood fire wildfire quake earthquake attack bomb
	shooting gunman war missile invasion outbreak lockdown dies death explosion collapse train
	derail ferry ship sink tempête inondation incendie séisme attentat fusillade guerre épidémie
	travel flight fly cruise beach hotel concert festival party sale deal offer ticket summer`)
	out := append([]string(nil), base...)
	syll := []string{"ka", "lo", "mi", "ra", "tu", "ven", "dor", "sel", "pa", "ni", "gro", "ble"}
	for len(out) < n {
		w := ""
		for k := 0; k < 2+r.IntN(3); k++ {
			w += syll[r.IntN(len(syll))]
		}
		out = append(out, w)
	}
	return out
}

type benchRule struct{ any, with, not, post []string }

func genRules(n int) ([]benchRule, string) {
	r := rand.New(rand.NewPCG(1, 2))
	words := benchWords(r, 4000)
	pick := func(k int, phrase bool) []string {
		var out []string
		for i := 0; i < k; i++ {
			w := words[r.IntN(len(words))]
			if phrase && r.IntN(3) == 0 {
				w += " " + words[r.IntN(len(words))]
			}
			out = append(out, w)
		}
		return out
	}
	var rules []benchRule
	var b strings.Builder
	q := func(xs []string) string {
		parts := make([]string, len(xs))
		for i, x := range xs {
			parts[i] = fmt.Sprintf("%q", x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	for i := 0; i < n; i++ {
		br := benchRule{any: pick(10, true), with: pick(5, false), not: pick(3, true), post: pick(5, true)}
		// Keep generated rules valid: a `not` may not stem like a term of the same side.
		br.not = []string{br.any[0] + " " + "zzq", "qqz " + br.with[0]}
		rules = append(rules, br)
		fmt.Fprintf(&b, "[[rule]]\nid = \"r%d\"\naction = \"pause\"\n[rule.news]\nany = %s\nwith = %s\nnot = %s\n[rule.posts]\nany = %s\n\n",
			i, q(br.any), q(br.with), q(br.not), q(br.post))
	}
	return rules, b.String()
}

// BenchmarkMatchNews1000Rules: one headline against 1,000 rules through the automaton.
func BenchmarkMatchNews1000Rules(b *testing.B) {
	_, src := genRules(1000)
	set := mustSet(b, src)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		set.MatchNews(Text{Title: benchHeadlines[i%len(benchHeadlines)]})
	}
	reportRates(b, processCPU()-cpu)
}

// reportRates adds headlines per second of wall time and, where measured, per second of
// CPU time (run with -cpu 1 for one core).
func reportRates(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "headlines/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "headlines/cpu-s")
	}
}

// BenchmarkMatchNews10Rules is the same with 10 rules: the cost should barely differ.
func BenchmarkMatchNews10Rules(b *testing.B) {
	_, src := genRules(10)
	set := mustSet(b, src)
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		set.MatchNews(Text{Title: benchHeadlines[i%len(benchHeadlines)]})
	}
	reportRates(b, processCPU()-cpu)
}

// BenchmarkRegexpBaseline1000 is what the automaton replaces: one compiled,
// case-insensitive, word-bounded regexp per rule over its news terms, same headlines.
func BenchmarkRegexpBaseline1000(b *testing.B) {
	rules, _ := genRules(1000)
	res := make([]*regexp.Regexp, len(rules))
	for i, r := range rules {
		alts := make([]string, len(r.any))
		for j, t := range r.any {
			alts[j] = regexp.QuoteMeta(t)
		}
		res[i] = regexp.MustCompile(`(?i)\b(?:` + strings.Join(alts, "|") + `)\b`)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	matched := 0
	for i := 0; i < b.N; i++ {
		h := benchHeadlines[i%len(benchHeadlines)]
		for _, re := range res {
			if re.MatchString(h) {
				matched++
			}
		}
	}
	reportRates(b, processCPU()-cpu)
	_ = matched
}

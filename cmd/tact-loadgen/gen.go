package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The generator's vocabulary. Rules are built from disaster words and places; campaign
// topics and post texts from marketing words; the calm feeds' headlines from sport and
// business words that share nothing with the rules' news terms, so that the load run opens
// no incident (checked by a test) and the figures measure the queue, not a pause.

type eventKind struct {
	lang  string
	any   []string
	with  []string // context words the weak terms need; may be empty
	not   []string // figurative uses, longer than the terms they qualify
	posts []string // post words that clash
}

var events = []eventKind{
	{"en", []string{"earthquake", "tremor", "quake"}, nil, []string{"quake in my boots"}, []string{"ground floor", "rock bottom prices"}},
	{"en", []string{"flood", "flash flood", "inundation"}, []string{"river", "rain", "homes", "evacuated"}, []string{"flood of orders"}, []string{"pool party", "water park"}},
	{"en", []string{"wildfire", "bushfire", "forest fire"}, nil, nil, []string{"campfire", "barbecue", "hot deals"}},
	{"en", []string{"derailment", "derailed", "train collision"}, nil, nil, []string{"rail pass", "train trip", "scenic railway"}},
	{"en", []string{"shipwreck", "capsized", "ferry sank"}, nil, nil, []string{"cruise", "boat tour", "ferry tickets"}},
	{"en", []string{"hurricane", "typhoon", "cyclone"}, nil, []string{"hurricane season sale"}, []string{"beach holiday", "island getaway"}},
	{"en", []string{"explosion", "blast"}, []string{"factory", "plant", "killed", "injured"}, []string{"blast from the past"}, []string{"explosive offer", "bang for your buck"}},
	{"en", []string{"outbreak", "epidemic"}, []string{"virus", "cases", "hospital"}, nil, []string{"spread the word", "viral deal"}},
	{"en", []string{"landslide", "mudslide", "avalanche"}, []string{"village", "buried", "missing", "skiers"}, []string{"landslide victory"}, []string{"ski week", "mountain escape"}},
	{"en", []string{"tornado", "twister"}, nil, nil, []string{"whirlwind tour", "storm of savings"}},
	{"en", []string{"bridge collapse", "building collapse"}, nil, nil, []string{"city break", "skyline tour"}},
	{"en", []string{"hostage", "gunman", "shooting"}, []string{"police", "killed", "school", "mall"}, []string{"shooting star", "photo shooting"}, []string{"mall opening", "back to school"}},
	{"en", []string{"heatwave", "heat wave"}, []string{"deaths", "record", "warning"}, nil, []string{"summer sizzle", "heat up your weekend"}},
	{"en", []string{"blackout", "power outage"}, []string{"millions", "grid", "city"}, nil, []string{"lights show", "late night shopping"}},
	{"fr", []string{"séisme", "tremblement de terre"}, nil, nil, []string{"prix cassés", "séjour"}},
	{"fr", []string{"inondation", "crue"}, []string{"évacués", "pluies", "rivière"}, nil, []string{"piscine", "parc aquatique"}},
	{"fr", []string{"incendie de forêt", "feux de forêt"}, nil, nil, []string{"barbecue", "camping"}},
	{"fr", []string{"déraillement", "collision ferroviaire"}, nil, nil, []string{"billet de train", "escapade en train"}},
	{"fr", []string{"naufrage", "chavirage"}, nil, nil, []string{"croisière", "traversée"}},
	{"fr", []string{"explosion", "déflagration"}, []string{"usine", "morts", "blessés"}, nil, []string{"offre explosive"}},
}

var places = []string{
	"Lisbon", "Porto", "Seville", "Valencia", "Naples", "Palermo", "Athens", "Crete", "Istanbul", "Izmir",
	"Marrakesh", "Tunis", "Cairo", "Nairobi", "Lagos", "Dakar", "Cape Town", "Mumbai", "Delhi", "Ahmedabad",
	"Kathmandu", "Bangkok", "Manila", "Jakarta", "Bali", "Osaka", "Kyoto", "Seoul", "Taipei", "Sydney",
	"Auckland", "Lima", "Quito", "Bogota", "Santiago", "Mendoza", "Havana", "Cancun", "Houston", "Miami",
	"Denver", "Seattle", "Vancouver", "Quebec", "Reykjavik", "Bergen", "Gdansk", "Krakow", "Zagreb", "Split",
	"Lyon", "Marseille", "Nice", "Bordeaux", "Toulouse", "Grenoble", "Annecy", "Ajaccio", "Brest", "Lille",
}

var topics = []string{
	"travel", "air-travel", "rail", "cruises", "city-breaks", "beach", "ski", "outdoor", "camping",
	"food", "wine", "fashion", "retail", "sale", "electronics", "gaming", "music", "festivals",
	"sport", "fitness", "insurance", "banking", "energy", "automotive", "real-estate", "family",
	"kids", "pets", "garden", "home", "beauty", "health", "books", "cinema", "streaming", "telecom",
}

var postOpeners = []string{
	"This week only:", "New:", "Don't miss it:", "Our favourite:", "Just in:", "Last chance:",
	"Coming soon:", "Members get more:", "Weekend pick:", "Fresh from the team:",
}

var postBodies = []string{
	"%d%% off %s in %s", "discover %s from %s, starting at €%d", "%s lovers, %s is waiting (from €%d)",
	"the %s guide to %s, %d tips inside", "win a %s weekend in %s: %d prizes",
}

// calmHeadlines share no word with the rules' news terms (a test checks that none fires).
var calmHeadlines = []string{
	"%s win the league title after a late goal",
	"Quarterly results: %s retailer beats forecasts",
	"%s marathon draws a record crowd of runners",
	"Central bank keeps rates unchanged, %s markets steady",
	"New museum wing opens to visitors in %s",
	"%s chef wins international pastry award",
	"Tech start-up from %s raises series B funding",
	"Orchestra announces autumn season in %s",
	"%s council approves new cycling lanes",
	"Local team from %s reaches cup semi-final",
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// ruleFile returns the TOML of generated rule number i: one event kind at one place, with
// a mix of actions, windows, topics and post words, in the event's language.
func ruleFile(rng *rand.Rand, i int) (id, body string) {
	ev := events[i%len(events)]
	place := places[(i/len(events))%len(places)]
	id = fmt.Sprintf("gen-%04d-%s-%s", i, slug(ev.any[0]), slug(place))
	action := []string{"pause", "pause", "hold", "flag"}[rng.IntN(4)]
	window := []string{"24h", "48h", "72h", "168h"}[rng.IntN(4)]
	resume := []string{"manual", "manual", "auto"}[rng.IntN(3)]
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by tact-loadgen: %s at %s.\n[[rule]]\n", ev.any[0], place)
	fmt.Fprintf(&b, "id          = %q\n", id)
	fmt.Fprintf(&b, "description = %q\n", fmt.Sprintf("No promotion near %s while news of %s comes from there.", place, ev.any[0]))
	fmt.Fprintf(&b, "action      = %q\nwindow      = %q\nresume      = %q\n\n[rule.news]\n", action, window, resume)
	fmt.Fprintf(&b, "any  = %s\n", tomlList(ev.any))
	// Every generated rule needs its place: 1,000 rules about 60 places and 20 kinds of event.
	fmt.Fprintf(&b, "all  = %s\n", tomlList([]string{place}))
	if len(ev.with) > 0 {
		fmt.Fprintf(&b, "with = %s\n", tomlList(ev.with))
	}
	if len(ev.not) > 0 {
		fmt.Fprintf(&b, "not  = %s\n", tomlList(ev.not))
	}
	fmt.Fprintf(&b, "unless = %s\n", tomlList([]string{"years ago", "anniversary"}))
	fmt.Fprintf(&b, "min_sources = %d\n\n[rule.posts]\n", 1+rng.IntN(2))
	ts := []string{topics[rng.IntN(len(topics))], topics[rng.IntN(len(topics))]}
	if ts[0] == ts[1] {
		ts = ts[:1]
	}
	fmt.Fprintf(&b, "topics = %s\n", tomlList(ts))
	fmt.Fprintf(&b, "any    = %s\n", tomlList(append([]string{place}, ev.posts...)))
	return id, b.String()
}

func tomlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// postText is a realistic marketing text of 60–200 characters.
func postText(rng *rand.Rand, n int) string {
	place := places[rng.IntN(len(places))]
	topic := strings.ReplaceAll(topics[rng.IntN(len(topics))], "-", " ")
	var body string
	switch rng.IntN(len(postBodies)) {
	case 0:
		body = fmt.Sprintf(postBodies[0], 10+rng.IntN(60), topic, place)
	case 1:
		body = fmt.Sprintf(postBodies[1], topic, place, 19+rng.IntN(300))
	case 2:
		body = fmt.Sprintf(postBodies[2], topic, place, 9+rng.IntN(90))
	case 3:
		body = fmt.Sprintf(postBodies[3], topic, place, 3+rng.IntN(12))
	default:
		body = fmt.Sprintf(postBodies[4], topic, place, 1+rng.IntN(20))
	}
	return fmt.Sprintf("%s %s. #%s #offer%d", postOpeners[rng.IntN(len(postOpeners))], body, slug(place), n%97)
}

// calmHeadline is news that fires no generated rule.
func calmHeadline(rng *rand.Rand) string {
	return fmt.Sprintf(calmHeadlines[rng.IntN(len(calmHeadlines))], places[rng.IntN(len(places))])
}

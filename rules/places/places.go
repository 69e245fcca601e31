// Package places owns tact's gazetteer: places of the world (cities of 1,000 people or
// more, their states, regions, counties and départements, and countries with their French
// names and demonyms) read from an embedded file made from GeoNames, CLDR and
// world-countries data (see NOTICE.md), and the resolver that finds the places a text
// names. It is pure and read-only: the data is loaded once, on first use.
//
// Regenerate the data with `go generate ./rules/places/` (it needs npm); see docs/rules.md.
package places

//go:generate go run ./internal/cmd/gen -o places.tsv.gz

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"math"
	"strconv"
	"strings"
	"sync"
)

//go:embed places.tsv.gz
var data []byte

// Kind is the level of a place in the hierarchy.
type Kind uint8

// The levels, from the narrowest.
const (
	City    Kind = iota // a populated place
	Admin2              // county, département, province
	Admin1              // state, region
	Country             // a country
)

func (k Kind) String() string {
	return [...]string{"city", "county", "region", "country"}[k]
}

// Place is one place, with its hierarchy (codes as GeoNames writes them) and coordinates.
type Place struct {
	Name     string // its first name in the data
	Kind     Kind
	Country  string // ISO 3166-1 alpha-2
	Admin1   string // GeoNames admin1 code, "" for a country
	Admin2   string // GeoNames admin2 code, "" above a county
	Lat, Lon float32
	Pop      int64
}

// Gazetteer is the loaded data. It is safe for concurrent use.
type Gazetteer struct {
	places []Place
	byName map[string][]int32 // folded name -> places
	abbrev map[string][]int32 // "TX" -> the region, used only right after a town
	admin  map[string]int32   // "FR.84" / "FR.84.74" / "FR" -> the area
	rank   map[string]int     // folded name -> its rank as a frequent word
	maxLen int                // most words in a name
}

var loadOnce = sync.OnceValue(func() *Gazetteer {
	g, err := parse(data)
	if err != nil {
		panic("places: embedded data is damaged: " + err.Error())
	}
	return g
})

// Default returns the embedded gazetteer, loading it on first use.
func Default() *Gazetteer { return loadOnce() }

func parse(b []byte) (*Gazetteer, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	g := &Gazetteer{byName: map[string][]int32{}, abbrev: map[string][]int32{}, admin: map[string]int32{}, rank: map[string]int{}}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	f32 := func(s string) float32 { x, _ := strconv.ParseFloat(s, 32); return float32(x) }
	i64 := func(s string) int64 { x, _ := strconv.ParseInt(s, 10, 64); return x }
	type named struct {
		id    int32
		names string
	}
	var pending []named
	add := func(p Place, names string) {
		id := int32(len(g.places))
		g.places = append(g.places, p)
		pending = append(pending, named{id, names})
	}
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		switch f[0] {
		case "C": // C cc lat lon pop names demonyms
			p := Place{Kind: Country, Country: f[1], Lat: f32(f[2]), Lon: f32(f[3]), Pop: i64(f[4])}
			p.Name, _, _ = strings.Cut(f[5], "|")
			g.admin[f[1]] = int32(len(g.places))
			add(p, f[5]+"|"+f[6])
		case "A": // A level cc a1 a2 lat lon pop names abbr
			p := Place{Kind: Admin1, Country: f[2], Admin1: f[3], Admin2: f[4], Lat: f32(f[5]), Lon: f32(f[6]), Pop: i64(f[7])}
			key := f[2] + "." + f[3]
			if f[1] == "2" {
				p.Kind = Admin2
				key += "." + f[4]
			}
			p.Name, _, _ = strings.Cut(f[8], "|")
			g.admin[key] = int32(len(g.places))
			if f[9] != "" {
				g.abbrev[f[9]] = append(g.abbrev[f[9]], int32(len(g.places)))
			}
			add(p, f[8])
		case "P": // P cc a1 a2 lat lon pop names
			p := Place{Kind: City, Country: f[1], Admin1: f[2], Admin2: f[3], Lat: f32(f[4]), Lon: f32(f[5]), Pop: i64(f[6])}
			p.Name, _, _ = strings.Cut(f[7], "|")
			add(p, f[7])
		case "W":
			g.rank[f[1]] = int(i64(f[2]))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, n := range pending {
		for _, name := range strings.Split(n.names, "|") {
			words := words(name)
			if len(words) == 0 {
				continue
			}
			key := strings.Join(words, " ")
			if ids := g.byName[key]; len(ids) > 0 && ids[len(ids)-1] == n.id {
				continue
			}
			g.byName[key] = append(g.byName[key], n.id)
			g.maxLen = max(g.maxLen, len(words))
		}
	}
	return g, nil
}

// words splits a name into folded words, as the resolver reads texts.
func words(s string) []string {
	var out []string
	for _, w := range splitWords(s) {
		out = append(out, w.folded)
	}
	return out
}

// Parent returns the area of the given kind that holds p (its county, region or country),
// or false when the data has none.
func (g *Gazetteer) Parent(p Place, k Kind) (Place, bool) {
	if k <= p.Kind {
		return Place{}, false
	}
	key := p.Country
	switch k {
	case Admin1:
		key += "." + p.Admin1
	case Admin2:
		key += "." + p.Admin1 + "." + p.Admin2
	}
	id, ok := g.admin[key]
	if !ok {
		return Place{}, false
	}
	return g.places[id], true
}

// Distance is the great-circle distance between two places in km.
func Distance(a, b Place) float64 {
	const r = 6371.0
	la1, la2 := float64(a.Lat)*math.Pi/180, float64(b.Lat)*math.Pi/180
	dla := la2 - la1
	dlo := float64(b.Lon-a.Lon) * math.Pi / 180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Within reports whether inner lies in outer (outer is a country, region or county that
// holds it), or is outer itself.
func Within(inner, outer Place) bool {
	if inner == outer {
		return true
	}
	if outer.Kind <= inner.Kind || inner.Country != outer.Country {
		return false
	}
	switch outer.Kind {
	case Country:
		return true
	case Admin1:
		return inner.Admin1 == outer.Admin1
	case Admin2:
		return inner.Admin1 == outer.Admin1 && inner.Admin2 == outer.Admin2
	}
	return false
}

// SameArea reports whether a and b both lie in one area of kind k (the same county, region
// or country).
func SameArea(a, b Place, k Kind) bool {
	if a.Kind > k || b.Kind > k || a.Country != b.Country {
		return false
	}
	switch k {
	case Country:
		return true
	case Admin1:
		return a.Admin1 == b.Admin1
	case Admin2:
		return a.Admin1 == b.Admin1 && a.Admin2 == b.Admin2
	}
	return a == b
}

// Lookup returns the most populous place with this name (case and accents folded), for a
// rule that names a place.
func (g *Gazetteer) Lookup(name string) (Place, bool) {
	ids := g.byName[strings.Join(words(name), " ")]
	if len(ids) == 0 {
		return Place{}, false
	}
	return g.places[g.best(ids, nil)], true
}

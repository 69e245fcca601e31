package rules

import (
	"fmt"
	"math"
	"sort"

	"github.com/tact-hq/tact/rules/places"
)

// PlaceSide is a rule's [rule.places] table: a post clashes when a place it names lies near
// a place the incident's news names, or in the same area (docs/rules.md, "Places").
type PlaceSide struct {
	WithinKm float64 // > 0: a post place within this many km of a news place
	Level    string  // "", "county", "region" or "country": the same area, or a wider one the news names
}

// levels are the [rule.places] level names and the gazetteer's kinds.
var levels = map[string]places.Kind{"city": places.City, "county": places.Admin2, "region": places.Admin1, "country": places.Country}

type placesDoc struct {
	WithinKm *float64 `toml:"within_km"`
	Level    *string  `toml:"level"`
}

// parsePlaces validates a [rule.places] table.
func parsePlaces(d *placesDoc, bad func(key, format string, args ...any)) PlaceSide {
	var ps PlaceSide
	if d.WithinKm == nil && d.Level == nil {
		bad("places", "[rule.places] says nothing; set within_km = 100 or level = \"region\" (city, county, region, country)")
	}
	if d.WithinKm != nil {
		if *d.WithinKm <= 0 || math.IsNaN(*d.WithinKm) || *d.WithinKm > 20000 {
			bad("places.within_km", "within_km must be a distance in km above 0 (such as within_km = 100), not %v", *d.WithinKm)
		} else {
			ps.WithinKm = *d.WithinKm
		}
	}
	if d.Level != nil {
		if _, ok := levels[*d.Level]; !ok {
			bad("places.level", "unknown level %q; use \"city\", \"county\", \"region\" or \"country\"", *d.Level)
		} else {
			ps.Level = *d.Level
		}
	}
	return ps
}

// on reports whether the rule has a places clause.
func (ps PlaceSide) on() bool { return ps.WithinKm > 0 || ps.Level != "" }

// matchPlaces returns, for each place the post names that is near a place the news names
// under the clause, why: "Annecy, Haute-Savoie, FR: 35 km from the incident's Geneva".
func matchPlaces(ps PlaceSide, post PostInput, news []string) []string {
	if !ps.on() || len(news) == 0 {
		return nil
	}
	g := places.Default()
	var inNews []places.Mention
	for _, n := range news {
		inNews = append(inNews, g.Resolve(n)...)
	}
	if len(inNews) == 0 {
		return nil
	}
	inPost := g.Resolve(post.Text)
	for _, t := range post.Topics {
		inPost = append(inPost, g.ResolveLabel(t)...)
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range inPost {
		for _, n := range inNews {
			why, ok := placeNear(g, ps, p.Place, n.Place)
			if !ok {
				continue
			}
			line := describe(g, p) + ": " + why + " the incident's " + describe(g, n)
			if !seen[line] {
				seen[line] = true
				out = append(out, line)
			}
			break
		}
	}
	sort.Strings(out)
	return out
}

// placeNear decides one pair: the same place, the post's place within the news's area, the
// same area at the rule's level, the post naming the news's wider area up to that level,
// or within the distance.
func placeNear(g *places.Gazetteer, ps PlaceSide, post, news places.Place) (string, bool) {
	level, hasLevel := levels[ps.Level]
	switch {
	case post == news:
		return "the same place as", true
	case news.Kind != places.City && places.Within(post, news):
		return "in", true
	case post.Kind != places.City && places.Within(news, post) && hasLevel && post.Kind <= level:
		return "holds", true
	case hasLevel && level != places.City && places.SameArea(post, news, level):
		return "same " + level.String() + " as", true
	case ps.WithinKm > 0 && post.Kind == places.City && news.Kind == places.City:
		if d := places.Distance(post, news); d <= ps.WithinKm {
			return fmt.Sprintf("%.0f km from", d), true
		}
	}
	return "", false
}

// describe names a place for people: as written, then its county or region, and country.
func describe(g *places.Gazetteer, m places.Mention) string {
	s := m.Place.Name
	if m.Place.Kind == places.City || m.Place.Kind == places.Admin2 {
		for _, k := range []places.Kind{places.Admin2, places.Admin1} {
			if a, ok := g.Parent(m.Place, k); ok && a.Name != "" && k > m.Place.Kind {
				s += ", " + a.Name
				break
			}
		}
	}
	if m.Place.Kind != places.Country {
		s += ", " + m.Place.Country
	}
	return s
}

package rules

import (
	"strings"
	"testing"
)

const placeRule = `[[rule]]
id = "air"
action = "pause"
[rule.news]
any = ["crash"]
[rule.posts]
any = ["flight"]
[rule.places]
%s
`

func TestPlacesClauseErrors(t *testing.T) {
	for body, want := range map[string]string{
		"within_km = -5":     "r.toml:9: within_km must be a distance in km above 0",
		`level = "planet"`:   `r.toml:9: unknown level "planet"`,
		"radius = 10":        "r.toml:9:",
		"":                   "[rule.places] says nothing",
		"within_km = \"10\"": "r.toml:9:",
	} {
		_, err := Parse(map[string][]byte{"r.toml": []byte(strings.Replace(placeRule, "%s", body, 1))})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", body, err, want)
		}
	}
}

func TestPlacesClauseExplains(t *testing.T) {
	set, err := Parse(map[string][]byte{"r.toml": []byte(strings.Replace(placeRule, "%s", "within_km = 100", 1))})
	if err != nil {
		t.Fatal(err)
	}
	vs := set.Evaluate(Text{Title: "Jet crash near Geneva airport"}, PostInput{Text: "Lakeside weekend in Annecy"})
	if len(vs) != 1 || len(vs[0].Post.Places) != 1 {
		t.Fatalf("verdicts %+v", vs)
	}
	if got, want := vs[0].Post.Places[0], "Annecy, Haute-Savoie, FR: 36 km from the incident's Geneva"; !strings.HasPrefix(got, "Annecy, Haute-Savoie, FR: 3") || !strings.Contains(got, "km from the incident's Genève, Geneva, CH") {
		t.Errorf("why %q, want like %q", got, want)
	}
	if vs := set.Evaluate(Text{Title: "Jet crash near Geneva airport"}, PostInput{Text: "Lakeside weekend in Biarritz"}); len(vs) != 0 {
		t.Errorf("Biarritz is 600 km away: %+v", vs)
	}
}

package places

import (
	"runtime"
	"testing"
)

func resolveOne(t *testing.T, text string) []Mention {
	t.Helper()
	return Default().Resolve(text)
}

func TestResolveNamesheHierarchy(t *testing.T) {
	cases := []struct {
		text, want, country, admin1 string
	}{
		{"Floods in Paris this weekend", "paris", "FR", "11"},
		{"Tornado hits Paris, Texas", "paris", "US", "TX"},
		{"Tornado hits Paris TX overnight", "paris", "US", "TX"},
		{"Crash near Geneva airport", "geneva", "CH", "GE"},
		{"Un avion s'écrase près de Genève", "geneve", "CH", "GE"},
		{"Escapade à Londres", "londres", "GB", "ENG"},
		{"FLOODS HIT NICE", "nice", "FR", "93"},
		{"Wildfire near London, Ontario", "london", "CA", "08"},
		{"Storm batters Haute-Savoie", "haute savoie", "FR", "84"},
	}
	for _, c := range cases {
		ms := resolveOne(t, c.text)
		var got *Mention
		for i := range ms {
			if ms[i].Text == c.want {
				got = &ms[i]
			}
		}
		if got == nil {
			t.Errorf("%q: %q not resolved (got %+v)", c.text, c.want, ms)
			continue
		}
		if got.Place.Country != c.country || got.Place.Admin1 != c.admin1 {
			t.Errorf("%q: %q resolved to %+v, want %s/%s", c.text, c.want, got.Place, c.country, c.admin1)
		}
	}
}

func TestCommonWordsAreNotPlaces(t *testing.T) {
	for _, text := range []string{"nice weather for reading a book on your mobile", "Nice weather ahead", "Reading a book tonight", "Best deals of the year", "NICE WEATHER AHEAD"} {
		if ms := resolveOne(t, text); len(ms) > 0 {
			t.Errorf("%q names no place, got %+v", text, ms)
		}
	}
}

func TestDemonymsAndDistance(t *testing.T) {
	g := Default()
	ms := g.Resolve("Try our Italian menu")
	if len(ms) != 1 || ms[0].Place.Kind != Country || ms[0].Place.Country != "IT" {
		t.Fatalf("Italian: %+v", ms)
	}
	annecy := g.Resolve("Weekend in Annecy")[0].Place
	geneva := g.Resolve("Crash in Geneva")[0].Place
	if d := Distance(annecy, geneva); d < 25 || d > 45 {
		t.Errorf("Annecy–Geneva %.0f km", d)
	}
	fr, _ := g.Lookup("France")
	if !Within(annecy, fr) || Within(geneva, fr) {
		t.Errorf("Within: Annecy in France %v, Geneva in France %v", Within(annecy, fr), Within(geneva, fr))
	}
	hs, ok := g.Parent(annecy, Admin2)
	if !ok || hs.Name != "Haute-Savoie" {
		t.Errorf("Annecy's département: %+v", hs)
	}
}

// BenchmarkResolvePost is the cost of finding the places of a post.
func BenchmarkResolvePost(b *testing.B) {
	g := Default()
	post := "Last-minute getaway: 3 nights in Annecy, a short hop from Geneva, lake views and fondue from €199 #SummerInTheAlps"
	b.ReportAllocs()
	for b.Loop() {
		g.Resolve(post)
	}
}

// TestMemory reports how much the heap grows when the gazetteer is loaded.
func TestMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g, err := parse(data)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	mb := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	t.Logf("gazetteer: %d places, heap +%.1f MB", len(g.places), mb)
	if mb > 60 {
		t.Errorf("heap grows by %.1f MB loading the gazetteer; the target is < 60 MB", mb)
	}
	runtime.KeepAlive(g)
}

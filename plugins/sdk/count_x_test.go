package sdk

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// twitterText is testdata/twitter-text.json: cases of twitter-text's conformance suite
// (the file says which), the expectations X's own clients are tested against.
type twitterText struct {
	Weighted []struct {
		Section, Description, Text string
		WeightedLength             int
	}
	URLs []struct {
		Section, Description, Text string
		Expected                   []string
	}
	TLDs []struct {
		Section, Text string
		Expected      []string
	}
}

func loadTwitterText(t *testing.T) twitterText {
	t.Helper()
	data, err := os.ReadFile("testdata/twitter-text.json")
	if err != nil {
		t.Fatal(err)
	}
	var tt twitterText
	if err := json.Unmarshal(data, &tt); err != nil {
		t.Fatal(err)
	}
	if len(tt.Weighted) == 0 || len(tt.URLs) == 0 || len(tt.TLDs) == 0 {
		t.Fatal("testdata/twitter-text.json has no cases")
	}
	return tt
}

func TestCountXWeightedLengthConformance(t *testing.T) {
	for _, c := range loadTwitterText(t).Weighted {
		if got := Count(CountX, c.Text); got != c.WeightedLength {
			t.Errorf("%s: %q: Count = %d, want %d", c.Section, c.Description, got, c.WeightedLength)
		}
	}
}

// extracted returns the URLs xURLs finds in text, as strings.
func extracted(text string) []string {
	rs := []rune(text)
	out := []string{}
	for _, u := range xURLs(rs) {
		out = append(out, string(rs[u[0]:u[1]]))
	}
	return out
}

func TestCountXFindsURLsAsTwitterTextExtractsThem(t *testing.T) {
	for _, c := range loadTwitterText(t).URLs {
		if got := extracted(c.Text); !slices.Equal(got, c.Expected) {
			t.Errorf("%s: %q: %q: URLs %q, want %q", c.Section, c.Description, c.Text, got, c.Expected)
		}
	}
}

// Every top-level domain twitter-text knows makes a URL, unless IANA's root zone (the
// Public Suffix List) no longer has it: twitter-text's list is from 2020, ours is current.
// A miss for a domain the list does have is a fault of the extraction.
func TestCountXKnowsTheTopLevelDomains(t *testing.T) {
	var retired, faults []string
	for _, c := range loadTwitterText(t).TLDs {
		if got := extracted(c.Text); slices.Equal(got, c.Expected) {
			continue
		}
		tld := c.Text[strings.LastIndex(c.Text, ".")+1:]
		if a, err := idna.Punycode.ToASCII(tld); err == nil && !isTLD(strings.ToLower(a)) {
			retired = append(retired, tld)
			continue
		}
		faults = append(faults, c.Text)
	}
	if len(faults) > 0 {
		t.Errorf("%d URLs with a current top-level domain are not found: %s", len(faults), strings.Join(faults, " "))
	}
	t.Logf("%d of twitter-text's top-level domains have left the root zone since: %s", len(retired), strings.Join(retired, " "))
}

func TestCountX(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello", 5},
		{"héllo", 5},
		{"He\u0301llo", 5},                         // NFC first: é is one code point
		{"日本語", 6},                                 // CJK counts 2
		{"👍", 2}, {"👍🏽", 2}, {"🇫🇷", 2}, {"👩‍💻", 2}, // an emoji sequence is one emoji
		{"☺️", 2}, // with its presentation selector
		{"©", 1},  // © without a selector is text
		{"See https://example.com/" + strings.Repeat("x", 80) + ".", 4 + 23 + 1},
		{"see example.com now", 4 + 23 + 4}, // a bare domain with a known TLD is a URL
		{"see example.zzz now", len("see example.zzz now")},
		{"mail me@example.com", len("mail me@example.com")},
		{"#example.com", len("#example.com")},
		{"“quotes” – dashes", 17}, // general punctuation in the light ranges…
		{"…", 2},                  // but not all of it
	} {
		if got := Count(CountX, tc.text); got != tc.want {
			t.Errorf("Count(CountX, %q) = %d, want %d", tc.text, got, tc.want)
		}
	}
	if !Fits(CountX, strings.Repeat("a", 280), 280) || Fits(CountX, strings.Repeat("語", 141), 280) {
		t.Error("Fits disagrees with X's 280: 280 Latin letters fit, 141 CJK characters do not")
	}
}

// The daemon counts every queued post for an X account on each queue page: a long text full
// of dots must not take long.
func TestCountXIsFastOnPathologicalText(t *testing.T) {
	texts := []string{
		strings.Repeat("a.", 5000),
		strings.Repeat("日本.", 3000),
		strings.Repeat("http://a.com/(", 2000),
	}
	for _, s := range texts {
		start := time.Now()
		Count(CountX, s)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Count of %d characters (%q…) took %v", len(s), s[:12], d)
		}
	}
}

// xURLsFresh is xURLs without what the scanner remembers from one start to the next: the
// memory must change no answer.
func xURLsFresh(rs []rune) [][2]int {
	var urls [][2]int
	earliest := 0
	for start := 0; start < len(rs); start++ {
		if start < earliest || (start > 0 && !urlMayFollow(rs[start-1])) {
			continue
		}
		sc := &urlScanner{rs: rs, domains: map[int]int{}, tlds: map[[2]int]int{}}
		m, ok := sc.matchURL(start)
		if !ok {
			continue
		}
		earliest, start = m.end+1, m.end
		urls = append(urls, sc.accept(m)...)
	}
	return urls
}

func FuzzCountX(f *testing.F) {
	for _, s := range []string{"a.b.com", "x.日本.com/a", "http://a_b.c-d.com", "w.-d.com e.co.uk", "日本.みんな.com",
		"a.b_c.d.com", "http://t.co/abc?x=1 t.co/x", "example.comだよね.comtest/h", "1⃣👩‍💻 ☺️"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs := []rune(norm.NFC.String(s))
		if got, want := xURLs(rs), xURLsFresh(rs); !slices.Equal(got, want) {
			t.Fatalf("xURLs(%q) = %v, without memory %v", s, got, want)
		}
		if n := Count(CountX, s); s != "" && n < 1 {
			t.Fatalf("Count(CountX, %q) = %d; every character counts", s, n)
		}
	})
}

// BenchmarkCountX counts a typical post: text, a link, a bare domain, emoji.
func BenchmarkCountX(b *testing.B) {
	text := "Spring sale 🌸 20% off everything in Lisbon this weekend only — book at https://shop.example.com/spring?utm=x or visit example.com. " +
		"Trams, pastéis de nata and views from the Miradouro. 🇵🇹👍🏽 #Lisbon #Travel"
	for b.Loop() {
		Count(CountX, text)
	}
}

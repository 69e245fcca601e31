package linkedintest

import (
	"testing"
	"unicode/utf8"

	"github.com/tact-hq/tact/plugins/linkedin"
)

func TestParseLittleCutsAtAStrayReservedCharacter(t *testing.T) {
	for _, tt := range []struct{ in, kept, text string }{
		{"Lisbon (from €49)", "Lisbon ", "Lisbon "},
		{`Lisbon \(from €49\)`, `Lisbon \(from €49\)`, "Lisbon (from €49)"},
		{"#tag and {hashtag|\\#|other} and @[Ana](urn:li:person:1)", "#tag and {hashtag|\\#|other} and @[Ana](urn:li:person:1)", "#tag and #other and @Ana"},
		{"mail me@brand", "mail me", "mail me"},
		{"# alone", "", ""},
	} {
		kept, text := parseLittle(tt.in)
		if kept != tt.kept || text != tt.text {
			t.Errorf("parseLittle(%q) = %q, %q; want %q, %q", tt.in, kept, text, tt.kept, tt.text)
		}
	}
}

// The fake reads the plugin's commentary whole, whatever the text: the plugin's escaping
// and the fake's reading of LinkedIn's grammar agree.
func FuzzPluginCommentaryIsKeptWhole(f *testing.F) {
	for _, s := range []string{"", "From €49 (today) #Spring", "C# #1 ##x", "a\\b|c{d}e@f[g]h<i>j*k_l~m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			t.Skip("the daemon refuses text that is not UTF-8")
		}
		c := linkedin.Commentary(text)
		if kept, shown := parseLittle(c); kept != c || shown != text {
			t.Fatalf("Commentary(%q) = %q, read as %q showing %q", text, c, kept, shown)
		}
	})
}

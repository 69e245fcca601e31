package linkedin_test

import (
	"testing"
	"unicode/utf8"

	"github.com/tact-hq/tact/plugins/linkedin"
)

func TestCommentaryEscapesReservedCharactersAndKeepsHashtags(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{"plain text, no change.", "plain text, no change."},
		{"From €49 (today)", `From €49 \(today\)`},
		{`a\b|c{d}e@f[g]h<i>j*k_l~m`, `a\\b\|c\{d\}e\@f\[g\]h\<i\>j\*k\_l\~m`},
		{"#Spring sale", `{hashtag|\#|Spring} sale`},
		{"join #lisbon_trip!", `join {hashtag|\#|lisbon\_trip}!`},
		{"(#Lisboa)", `\({hashtag|\#|Lisboa}\)`},
		{"#été", `{hashtag|\#|été}`},
		{"C# and F#", `C\# and F\#`},
		{"#1 and # alone and ##x", `\#1 and \# alone and \#{hashtag|\#|x}`},
		{"#2026sale", `{hashtag|\#|2026sale}`},
	} {
		if got := linkedin.Commentary(tt.text); got != tt.want {
			t.Errorf("Commentary(%q) = %q, want %q", tt.text, got, tt.want)
		}
		if back := linkedin.PlainText(linkedin.Commentary(tt.text)); back != tt.text {
			t.Errorf("PlainText(Commentary(%q)) = %q", tt.text, back)
		}
	}
}

func TestPlainTextReadsLinkedInsRenderings(t *testing.T) {
	for _, tt := range []struct{ little, want string }{
		{"#tag as LinkedIn may return it", "#tag as LinkedIn may return it"},
		{`{hashtag|＃|tag}`, "＃tag"},
		{"Hello @[Acme Corp](urn:li:organization:1234)!", "Hello @Acme Corp!"},
		{`unbalanced {brace and @mention`, `unbalanced {brace and @mention`},
	} {
		if got := linkedin.PlainText(tt.little); got != tt.want {
			t.Errorf("PlainText(%q) = %q, want %q", tt.little, got, tt.want)
		}
	}
}

// Whatever a person writes, what LinkedIn's reader would see of the commentary is that text.
func FuzzCommentary(f *testing.F) {
	for _, s := range []string{"", "From €49 (today) #Spring", `\\#`, "C#", "#_", "@[x](urn:li:person:1)", "{hashtag|\\#|x}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			t.Skip("the daemon refuses text that is not UTF-8")
		}
		if back := linkedin.PlainText(linkedin.Commentary(text)); back != text {
			t.Fatalf("PlainText(Commentary(%q)) = %q", text, back)
		}
	})
}

package mastodon_test

import (
	"strings"
	"testing"

	"github.com/tact-hq/tact/plugins/mastodon"
)

func TestLengthCountsLikeMastodon(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", 200)
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello", 5},
		{"héllo wörld", 11},             // accents are one code point each
		{"e\u0301", 2},                  // a decomposed accent is two code points
		{"🎉🎉", 2},                       // one code point each
		{"see " + long, 4 + 23},         // any URL weighs 23
		{"see http://x.io", 4 + 23},     // short ones too
		{"(" + long + ").", 1 + 23 + 2}, // closing bracket and full stop are not the URL's
		{"a " + long + " b " + long, 2 + 23 + 3 + 23},
		{"@alice@example.social hi", 6 + 3}, // remote mention counts as @alice
		{"@alice hi", 9},                    // local mention as is
		{"mail bob@example.org", 20},        // an address is not a mention
		{"cc @bob@sub.example.co.uk, ok", 3 + 4 + 4},
		{"see https://x.example/@carol@y.example", 4 + 23}, // the mention inside a URL is the URL's
		{"ftp://example.com", 17},                          // only http(s) get the discount
	}
	for _, tt := range tests {
		if got := mastodon.Length(tt.text); got != tt.want {
			t.Errorf("Length(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

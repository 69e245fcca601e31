package web_test

import (
	"testing"

	"github.com/tact-hq/tact/daemon/web"
)

func TestLength(t *testing.T) {
	long := "https://shop.example.com/spring?utm_source=mastodon&utm_campaign=spring-sale-2026"
	for _, tc := range []struct {
		text, counting string
		want           int
	}{
		{"hello", "runes", 5},
		{"héllo", "bytes", 6},
		{"héllo", "", 5},
		{"👨‍👩‍👧 family", "graphemes", 8},     // one grapheme for the family, 5 code points
		{"👨‍👩‍👧 family", "runes", 12},        // 5 + 1 + 6
		{"e\u0301", "graphemes", 1},          // e + combining accent
		{"Sale " + long, "mastodon", 5 + 23}, // a URL counts 23 whatever its length
		{"see http://a.io now", "mastodon", 4 + 23 + 4},
		{"hi @alice@example.social!", "mastodon", len("hi @alice!")}, // a remote mention counts as @user
		{"hi @alice", "mastodon", 9},
	} {
		if got := web.Length(tc.text, tc.counting); got != tc.want {
			t.Errorf("Length(%q, %q) = %d, want %d", tc.text, tc.counting, got, tc.want)
		}
	}
}

package sdk

import (
	"strings"
	"testing"
)

func TestCount(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("x", 80)
	for _, tc := range []struct {
		counting Counting
		text     string
		want     int
	}{
		{CountRunes, "héllo", 5},
		{CountBytes, "héllo", 6},
		{CountGraphemes, "👍🏽 ok", 4},           // thumbs up with skin tone is one grapheme
		{CountRunes, "👍🏽 ok", 5},               // but two code points
		{CountGraphemes, "🇫🇷", 1},              // a flag is one grapheme of two code points
		{CountMastodon, "see " + long, 4 + 23}, // any URL counts 23
		{CountMastodon, "a http://x.y b", 2 + 23 + 2},
		{CountMastodon, "read " + long + ".", 5 + 23 + 1}, // the full stop is not part of the URL
		{CountMastodon, "(see " + long + ")", 5 + 23 + 1},
		{CountMastodon, "hi @alice@social.example.org!", len("hi @alice!")},
		{CountMastodon, "@bob@a.b @carol@c.d", len("@bob @carol")},
		{CountMastodon, "mail me@example.com", len("mail me@example.com")}, // an address, not a mention
		{CountMastodon, "@local stays", len("@local stays")},
		{CountMastodon, "héllo", 5},
		{"unknown", "héllo", 5},
	} {
		if got := Count(tc.counting, tc.text); got != tc.want {
			t.Errorf("Count(%s, %q) = %d, want %d", tc.counting, tc.text, got, tc.want)
		}
	}
}

func TestFits(t *testing.T) {
	if !Fits(CountRunes, "abc", 3) || Fits(CountRunes, "abcd", 3) || !Fits(CountRunes, "anything", 0) {
		t.Fatal("Fits disagrees with Count")
	}
}

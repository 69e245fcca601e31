package x

import (
	"testing"
	"time"
)

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		shown, text string
		media       int
		want        bool
	}{
		{"Spring sale", "Spring sale", 0, true},
		{"Sale https://t.co/AbC123 now", "Sale https://shop.example.com/spring?x=1 now", 0, true},
		{"Sale https://t.co/AbC123 now", "Sale example.com now", 0, true}, // bare domains are wrapped too
		{"Fish &amp; chips &lt;3", "Fish & chips <3", 0, true},
		{"Two\nlines", "Two   \n\n lines ", 0, true},
		{"With a picture https://t.co/Media1", "With a picture", 1, true},
		{"https://t.co/Media1", "", 1, true},
		{"With a picture", "With a picture", 1, false},                     // the media link is missing
		{"With a picture https://t.co/Media1", "With a picture", 0, false}, // an extra link
		{"Sale https://t.co/AbC123 now", "Sale now", 0, false},
		{"Spring sale!", "Spring sale", 0, false},
		{"Café", "Cafe\u0301", 0, true}, // NFC on both sides
		{"a.b*c (d)", "a.b*c (d)", 0, true},
		{"a.b*c (d)", "aXb*c (d)", 0, false}, // regexp metacharacters are literal
	} {
		if got := matches(tc.shown, tc.text, tc.media); got != tc.want {
			t.Errorf("matches(%q, %q, %d) = %v, want %v", tc.shown, tc.text, tc.media, got, tc.want)
		}
	}
}

func TestSnowflakeTime(t *testing.T) {
	// X's documentation example: post 1212092628029698048 was created 2019-12-31T19:26:16.
	got, ok := snowflakeTime("1212092628029698048")
	if want := time.Date(2019, 12, 31, 19, 26, 16, 0, time.UTC); !ok || got.Truncate(time.Second) != want {
		t.Fatalf("snowflakeTime = %v, %v; want %v", got, ok, want)
	}
	if _, ok := snowflakeTime("not-a-number"); ok {
		t.Fatal("a non-number has a time")
	}
}

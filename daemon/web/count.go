package web

import (
	"regexp"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// The queue shows each post's length as the target network counts it (SPEC 3), so that a
// marketer sees "287 / 300" before the plugin's Validate refuses the post. static/app.js
// repeats these rules in the browser for the live count while editing; the two must agree.

// Mastodon counts every URL as 23 characters whatever its length, and a mention of a remote
// account (@user@domain) by its local part only.
var (
	mastodonURL     = regexp.MustCompile(`https?://[^\s<>"]+`)
	mastodonMention = regexp.MustCompile(`(@[A-Za-z0-9_]+)@[A-Za-z0-9.\-]+[A-Za-z0-9]`)
)

const mastodonURLLength = 23

// Length returns the length of text by a network's counting: "graphemes" (user-perceived
// characters, Bluesky), "mastodon" (code points, URLs as 23, @user@domain as @user),
// "bytes" (UTF-8 bytes), anything else (including "runes" and "") code points.
func Length(text, counting string) int {
	switch counting {
	case "graphemes":
		return uniseg.GraphemeClusterCount(text)
	case "bytes":
		return len(text)
	case "mastodon":
		n := 0
		rest := mastodonMention.ReplaceAllString(text, "$1")
		for _, loc := range mastodonURL.FindAllStringIndex(rest, -1) {
			n -= utf8.RuneCountInString(rest[loc[0]:loc[1]]) - mastodonURLLength
		}
		return n + utf8.RuneCountInString(rest)
	default:
		return utf8.RuneCountInString(text)
	}
}

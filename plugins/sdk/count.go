package sdk

import (
	"regexp"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// MastodonURLLength is what every URL counts for in a Mastodon post, however long it is.
const MastodonURLLength = 23

// Count returns text's length as a network counting the given way would see it. An
// unknown counting falls back to runes.
//
//   - CountRunes: Unicode code points.
//   - CountGraphemes: user-perceived characters ("👍🏽" is one), as Bluesky counts.
//   - CountMastodon: code points, except that every http(s) URL counts as 23 and a remote
//     mention @user@domain counts as @user.
//   - CountBytes: UTF-8 bytes.
//   - CountX: X's weighted length (twitter-text): NFC, URLs as 23, emoji as 2, code points
//     of Latin and other light scripts as 1, all others (CJK…) as 2.
func Count(counting Counting, text string) int {
	switch counting {
	case CountGraphemes:
		return uniseg.GraphemeClusterCount(text)
	case CountMastodon:
		return countMastodon(text)
	case CountBytes:
		return len(text)
	case CountX:
		return countX(text)
	default:
		return utf8.RuneCountInString(text)
	}
}

// Fits reports whether text fits in max under counting; max <= 0 means no limit.
func Fits(counting Counting, text string, max int) bool {
	return max <= 0 || Count(counting, text) <= max
}

var (
	// mastodonURL matches what Mastodon links: an http(s) URL up to whitespace. Trailing
	// punctuation is not part of the URL (see trimURL).
	mastodonURL = regexp.MustCompile(`https?://[^\s]+`)
	// mastodonMention matches @user@domain; only "@user" counts.
	mastodonMention = regexp.MustCompile(`(^|[^\w@/])(@[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*)@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?`)
)

func countMastodon(text string) int {
	n := 0
	rest := text
	for {
		loc := mastodonURL.FindStringIndex(rest)
		if loc == nil {
			break
		}
		url := trimURL(rest[loc[0]:loc[1]])
		if len(url) <= len("https://") {
			// "http://a" and the like are not links to Mastodon: they count as text.
			n += countMentions(rest[:loc[0]+len(url)])
		} else {
			n += countMentions(rest[:loc[0]]) + MastodonURLLength
		}
		rest = rest[loc[0]+len(url):]
	}
	return n + countMentions(rest)
}

// countMentions counts runes in s with every @user@domain shortened to @user.
func countMentions(s string) int {
	n := utf8.RuneCountInString(s)
	for _, m := range mastodonMention.FindAllStringSubmatchIndex(s, -1) {
		// m[0]:m[1] is the whole match (with the leading boundary), m[4]:m[5] is @user.
		whole := utf8.RuneCountInString(s[m[0]:m[1]])
		kept := utf8.RuneCountInString(s[m[0]:m[5]])
		n -= whole - kept
	}
	return n
}

// trimURL drops trailing punctuation that ends a sentence rather than the URL, and a
// closing parenthesis that has no opening one inside the URL.
func trimURL(u string) string {
	for len(u) > 0 {
		last := u[len(u)-1]
		switch last {
		case '.', ',', ':', ';', '!', '?', '"', '\'':
			u = u[:len(u)-1]
			continue
		case ')':
			if countByte(u, '(') < countByte(u, ')') {
				u = u[:len(u)-1]
				continue
			}
		}
		return u
	}
	return u
}

func countByte(s string, b byte) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			n++
		}
	}
	return n
}

package mastodon

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// urlWeight is what Mastodon charges for any http(s) URL, whatever its real length.
const urlWeight = 23

var (
	urlRe = regexp.MustCompile(`https?://[^\s<>"]+`)
	// mentionRe matches @user or @user@domain; the character before it is checked by hand
	// because Go's regexp has no look-behind.
	mentionRe = regexp.MustCompile(`@([A-Za-z0-9_]+(?:[A-Za-z0-9_.-]+[A-Za-z0-9_]+)?)(@[\p{L}\p{M}\p{N}_.-]+[\p{L}\p{M}\p{N}_]+)?`)
)

// urlSpans returns the byte spans of the http(s) URLs in s, trimmed of the trailing
// punctuation a sentence puts after a link (and of a closing bracket it did not open).
func urlSpans(s string) [][2]int {
	var spans [][2]int
	for _, loc := range urlRe.FindAllStringIndex(s, -1) {
		start, end := loc[0], loc[1]
		for end > start {
			r, size := utf8.DecodeLastRuneInString(s[start:end])
			if strings.ContainsRune(".,:;!?'\"", r) {
				end -= size
				continue
			}
			if closing := map[rune]rune{')': '(', ']': '[', '}': '{'}[r]; closing != 0 &&
				strings.Count(s[start:end], string(r)) > strings.Count(s[start:end], string(closing)) {
				end -= size
				continue
			}
			break
		}
		if end-start > len("https://") {
			spans = append(spans, [2]int{start, end})
		}
	}
	return spans
}

// Length counts s the way Mastodon's status length validator does: every http(s) URL
// weighs 23 characters, a mention @user@domain weighs as @user, everything else counts
// one per Unicode code point. (Mastodon 4 counts grapheme clusters for the rest; code
// points are never fewer, so a post that passes here also passes there.)
func Length(s string) int {
	n, prev := 0, 0
	for _, span := range urlSpans(s) {
		n += mentionLength(s, prev, span[0]) + urlWeight
		prev = span[1]
	}
	return n + mentionLength(s, prev, len(s))
}

// mentionLength counts s[from:to] with remote mentions shortened to their user part.
func mentionLength(s string, from, to int) int {
	n, prev := 0, from
	for _, m := range mentionRe.FindAllStringSubmatchIndex(s[from:to], -1) {
		start, end := from+m[0], from+m[1]
		if start > 0 {
			r, _ := utf8.DecodeLastRuneInString(s[:start])
			if r == '/' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
				continue
			}
		}
		n += utf8.RuneCountInString(s[prev:start]) + 1 + (m[3] - m[2])
		prev = end
	}
	return n + utf8.RuneCountInString(s[prev:to])
}

// shortenMentions rewrites @user@domain as @user: servers render remote mentions that
// way, so matching a published status against the text we sent must ignore the domain.
func shortenMentions(s string) string {
	var b strings.Builder
	prev := 0
	for _, m := range mentionRe.FindAllStringSubmatchIndex(s, -1) {
		start := m[0]
		if start > 0 {
			r, _ := utf8.DecodeLastRuneInString(s[:start])
			if r == '/' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
				continue
			}
		}
		b.WriteString(s[prev:start])
		b.WriteString(s[start:m[3]])
		prev = m[1]
	}
	b.WriteString(s[prev:])
	return b.String()
}

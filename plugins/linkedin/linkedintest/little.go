package linkedintest

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const reserved = `\|{}@[]()<>#*_~`

// parseLittle reads a commentary in LinkedIn's little text format as LinkedIn does: text,
// backslash escapes of the reserved characters, hashtags (#tag), hashtag templates
// ({hashtag|\#|tag}, the sign '#' escaped or U+FF03) and mentions (@[Name](urn:li:…)).
// At a reserved character that starts none of them the commentary ends: kept is what
// LinkedIn keeps, text what a reader of it sees.
func parseLittle(s string) (kept, text string) {
	var b strings.Builder
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !strings.ContainsRune(reserved, r) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		n, shown := element(s[i:])
		if n == 0 {
			return s[:i], b.String()
		}
		b.WriteString(shown)
		i += n
	}
	return s, b.String()
}

// element reads the element that starts s with a reserved character: its length and
// what a reader sees of it, or 0.
func element(s string) (int, string) {
	switch s[0] {
	case '\\':
		if r, size := utf8.DecodeRuneInString(s[1:]); len(s) > 1 && strings.ContainsRune(reserved, r) {
			return 1 + size, string(r)
		}
	case '#':
		if n := tagLen(s[1:]); n > 0 {
			return 1 + n, s[:1+n]
		}
	case '@':
		if !strings.HasPrefix(s, "@[") {
			return 0, ""
		}
		end := strings.Index(s, "](urn:li:")
		if end < 0 {
			return 0, ""
		}
		close := strings.IndexByte(s[end:], ')')
		if close < 0 {
			return 0, ""
		}
		_, name := parseLittle(s[2:end])
		return end + close + 1, "@" + name
	case '{':
		for _, sign := range []string{`\#`, "＃"} {
			prefix := "{hashtag|" + sign + "|"
			if !strings.HasPrefix(s, prefix) {
				continue
			}
			rest := s[len(prefix):]
			end := strings.IndexByte(rest, '}')
			if end <= 0 {
				return 0, ""
			}
			_, tag := parseLittle(rest[:end])
			return len(prefix) + end + 1, "#" + tag
		}
	}
	return 0, ""
}

// tagLen is the length of the hashtag value at the start of s (letters, digits, '_').
func tagLen(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		n += size
	}
	return n
}

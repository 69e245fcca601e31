package linkedin

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// reserved are the characters LinkedIn's "little" text format gives a meaning to
// (mentions, hashtags, templates). The Posts API reads commentary in that format, and an
// unescaped reserved character that does not start a valid element makes LinkedIn drop
// the rest of the text without an error: "Prices (from €49)" would publish as "Prices ".
// As plain text each must be preceded by a backslash.
const reserved = `\|{}@[]()<>#*_~`

// Commentary writes a post's text in the little text format: every reserved character
// escaped, except the '#' of a hashtag, which is written as LinkedIn's HashtagTemplate
// ({hashtag|\#|spring}) so that it stays a hashtag a reader can follow. A hashtag is a '#'
// that does not follow a letter, digit or '_' ("C#" is not one), then letters, digits and
// '_' with at least one letter ("#1" is not one).
func Commentary(text string) string {
	var b strings.Builder
	b.Grow(len(text) + len(text)/8)
	prev := rune(-1)
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == '#' && !isTagRune(prev) {
			if tag := hashtagAt(text[i+size:]); tag != "" {
				b.WriteString(`{hashtag|\#|`)
				writeEscaped(&b, tag)
				b.WriteByte('}')
				i += size + len(tag)
				prev, _ = utf8.DecodeLastRuneInString(tag)
				continue
			}
		}
		if strings.ContainsRune(reserved, r) {
			b.WriteByte('\\')
		}
		b.WriteString(text[i : i+size])
		prev = r
		i += size
	}
	return b.String()
}

// hashtagAt is the hashtag value at the start of s, or "".
func hashtagAt(s string) string {
	end, letter := 0, false
	for end < len(s) {
		r, size := utf8.DecodeRuneInString(s[end:])
		if !isTagRune(r) {
			break
		}
		letter = letter || unicode.IsLetter(r)
		end += size
	}
	if !letter {
		return ""
	}
	return s[:end]
}

func isTagRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func writeEscaped(b *strings.Builder, s string) {
	for _, r := range s {
		if strings.ContainsRune(reserved, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
}

// PlainText is what a reader sees of a little text commentary: escapes removed,
// templates and mentions as their text ({hashtag|\#|spring} is "#spring",
// @[Acme](urn:li:organization:1) is "@Acme"). Lookup compares it with what tact sent, so
// it must read LinkedIn's own rendering of a hashtag (plain "#spring" or the template)
// the same way. Malformed input is kept as written rather than refused.
func PlainText(little string) string {
	var b strings.Builder
	for i := 0; i < len(little); {
		c := little[i]
		switch {
		case c == '\\' && i+1 < len(little):
			_, size := utf8.DecodeRuneInString(little[i+1:])
			b.WriteString(little[i+1 : i+1+size])
			i += 1 + size
		case c == '{':
			if params, n := template(little[i:]); n > 0 {
				if len(params) == 3 && params[0] == "hashtag" {
					b.WriteString(params[1] + params[2])
				} else {
					b.WriteString(strings.Join(params[1:], ""))
				}
				i += n
				continue
			}
			b.WriteByte(c)
			i++
		case c == '@' && strings.HasPrefix(little[i:], "@["):
			if name, n := mention(little[i:]); n > 0 {
				b.WriteString("@" + name)
				i += n
				continue
			}
			b.WriteByte(c)
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// template reads "{name|param|…}" at the start of s: its unescaped parts and the bytes
// it spans, or n == 0 when s does not start with one.
func template(s string) (parts []string, n int) {
	var cur strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		case '|':
			parts = append(parts, cur.String())
			cur.Reset()
		case '}':
			return append(parts, cur.String()), i + 1
		case '{':
			return nil, 0
		default:
			cur.WriteByte(c)
		}
	}
	return nil, 0
}

// mention reads "@[name](urn:…)" at the start of s.
func mention(s string) (name string, n int) {
	end := strings.Index(s, "](")
	if end < 0 {
		return "", 0
	}
	close := strings.IndexByte(s[end:], ')')
	if close < 0 || !strings.HasPrefix(s[end+2:], "urn:") {
		return "", 0
	}
	return PlainText(s[2:end]), end + close + 1
}

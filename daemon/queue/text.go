package queue

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text that tact keeps must be valid UTF-8: it reaches the plugins as protobuf strings,
// which refuse anything else, so a file saved as Latin-1 or Windows-1252 would otherwise be
// accepted and then fail at every plugin call. Every entry point (API bodies, CSV imports,
// web forms) refuses it up front with CheckUTF8 or UTF8Error, saying where.

// BadUTF8 returns the byte offset of the first byte of s that is not valid UTF-8, or -1
// when all of s is.
func BadUTF8(s string) int {
	if utf8.ValidString(s) {
		return -1
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// CheckUTF8 returns nil when s is valid UTF-8, else UTF8Error for field at the first bad
// byte, counted in characters (and lines, for a text of several lines).
func CheckUTF8(field, s string) error {
	i := BadUTF8(s)
	if i < 0 {
		return nil
	}
	where := fmt.Sprintf("character %d", utf8.RuneCountInString(s[:i])+1)
	if nl := strings.LastIndexByte(s[:i], '\n'); nl >= 0 {
		where = fmt.Sprintf("line %d, character %d", strings.Count(s[:i], "\n")+1, utf8.RuneCountInString(s[nl+1:i])+1)
	}
	return UTF8Error(field, where, s[i])
}

// UTF8Error is the Invalid error for a byte b that is not UTF-8 in field ("" for a whole
// body), at where ("character 12", "line 3, column 7").
func UTF8Error(field, where string, b byte) error {
	what := "the text"
	if field != "" {
		what = field
	}
	return Errorf(Invalid, field, "%s is not valid UTF-8 (byte 0x%02X at %s): tact takes text in UTF-8 only; save the file or text as UTF-8 (a spreadsheet's \"CSV UTF-8\") and send it again", what, b, where)
}

package x

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

var (
	// tcoLink is how X shows every link of a post: wrapped in t.co.
	tcoLink = regexp.MustCompile(`https?://t\.co/[A-Za-z0-9]+`)
	// mediaLink is the t.co link X appends to the text of a post with media.
	mediaLink = regexp.MustCompile(`\s*https?://t\.co/[A-Za-z0-9]+\s*$`)
	spaces    = regexp.MustCompile(`\s+`)
)

// matches reports whether the post X shows as shown is the one sent with text and media
// attachments. X changes a text in known ways only: every link (http(s) URLs, and bare
// domains such as example.com) becomes a t.co link, &, < and > come back escaped, and a
// post with media ends with a t.co link to it. So each t.co link of shown may stand for
// any run of non-space characters of text, and whitespace runs are compared as one.
func matches(shown, text string, media int) bool {
	s := norm.NFC.String(html.UnescapeString(shown))
	if media > 0 {
		loc := mediaLink.FindStringIndex(s)
		if loc == nil {
			return false
		}
		s = s[:loc[0]]
	}
	s = strings.TrimSpace(s)
	var pattern strings.Builder
	pattern.WriteString(`^`)
	prev := 0
	for _, loc := range tcoLink.FindAllStringIndex(s, -1) {
		pattern.WriteString(literal(s[prev:loc[0]]))
		pattern.WriteString(`\S+`)
		prev = loc[1]
	}
	pattern.WriteString(literal(s[prev:]))
	pattern.WriteString(`$`)
	re, err := regexp.Compile(pattern.String())
	if err != nil {
		return false
	}
	return re.MatchString(normSpace(norm.NFC.String(text)))
}

// literal is s as a pattern matching itself, whitespace runs matching any whitespace run.
func literal(s string) string {
	parts := spaces.Split(s, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(parts, `\s+`)
}

func normSpace(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

// twitterEpoch is the millisecond X's snowflake ids count from.
const twitterEpoch = 1288834974657

// snowflakeTime is when X created the post with id: a snowflake id carries its creation
// time in milliseconds, shifted left by 22 bits.
func snowflakeTime(id string) (time.Time, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(n>>22 + twitterEpoch).UTC(), true
}

package mastodon

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tact-hq/tact/plugins/sdk"
)

var (
	// mentionRe matches @user or @user@domain; the character before it is checked by hand
	// because Go's regexp has no look-behind.
	mentionRe = regexp.MustCompile(`@([A-Za-z0-9_]+(?:[A-Za-z0-9_.-]+[A-Za-z0-9_]+)?)(@[\p{L}\p{M}\p{N}_.-]+[\p{L}\p{M}\p{N}_]+)?`)
)

// Length counts s the way Mastodon's status length validator does: every http(s) URL
// weighs 23 characters, a mention @user@domain weighs as @user, everything else counts
// one per Unicode code point (sdk.CountMastodon, shared with the daemon's previews).
// Mastodon 4 counts grapheme clusters for the rest; code points are never fewer, so a
// post that passes here also passes there.
func Length(s string) int { return sdk.Count(sdk.CountMastodon, s) }

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

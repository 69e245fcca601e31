package sdk

import (
	"sort"
	"strings"
)

// TextWithLink is the text a network without a separate link field publishes for p: the
// text with p.Link appended on a line of its own (after a blank line), unless the text
// already contains the link. Trailing spaces and newlines of the text are dropped before
// the link; a post with only a link is the link. Validate the length of this text, not
// p.Text alone, so what you check is what you send.
func TextWithLink(p Post) string {
	if p.Link == "" || strings.Contains(p.Text, p.Link) {
		return p.Text
	}
	if strings.TrimSpace(p.Text) == "" {
		return p.Link
	}
	return strings.TrimRight(p.Text, " \t\n") + "\n\n" + p.Link
}

// JoinProblems is ps as one line, sorted so the same problems always read the same:
// "link: …; text: …". Use it when Publish refuses a post that Validate would refuse.
func JoinProblems(ps []Problem) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	sort.Strings(s)
	return strings.Join(s, "; ")
}

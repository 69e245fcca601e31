package mastodon

import (
	"crypto/sha256"
	"encoding/hex"
	"html"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// textHash identifies a status text independently of how a server renders it: servers
// turn text into HTML (links wrapped in spans, remote mentions shortened to @user,
// newlines into paragraphs), so whitespace and mention domains are dropped and Unicode is
// normalised before hashing. Two texts that differ only there are the same post.
func textHash(text string) string {
	s := shortenMentions(norm.NFC.String(text))
	var b strings.Builder
	for _, r := range s {
		if !unicode.IsSpace(r) {
			b.WriteRune(r)
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// htmlText returns the text a person reads in a status's HTML content.
func htmlText(content string) string {
	var b strings.Builder
	inTag := false
	for _, r := range content {
		switch {
		case r == '<':
			inTag = true
		case r == '>' && inTag:
			inTag = false
			b.WriteByte(' ') // <br>, </p>: whitespace is ignored when matching anyway
		case !inTag:
			b.WriteRune(r)
		}
	}
	return html.UnescapeString(b.String())
}

// matches reports whether st is the status published with a text of hash h and media
// attachments. It compares every rendering a server offers: the HTML content (all
// servers), the source text (GoToSocial, and Mastodon on some answers) and Pleroma's and
// Akkoma's plain-text rendering.
func (st *status) matches(h string, media int) bool {
	if len(st.MediaAttachments) != media {
		return false
	}
	for _, s := range []string{htmlText(st.Content), st.Text, st.Pleroma.Content["text/plain"]} {
		if s != "" && textHash(s) == h {
			return true
		}
	}
	return h == textHash("") && st.Content == "" && media > 0
}

package bluesky

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Facet is an app.bsky.richtext.facet: a feature over a range of the text, counted in UTF-8
// bytes (not characters: an emoji before a link moves it by four).
type Facet struct {
	Index    ByteSlice      `json:"index"`
	Features []FacetFeature `json:"features"`
}

// ByteSlice is a facet's range in UTF-8 bytes, end exclusive.
type ByteSlice struct {
	ByteStart int `json:"byteStart"`
	ByteEnd   int `json:"byteEnd"`
}

// FacetFeature is a link (URI) or a mention (DID).
type FacetFeature struct {
	Type string `json:"$type"`
	URI  string `json:"uri,omitempty"`
	DID  string `json:"did,omitempty"`
}

const (
	linkFeature    = "app.bsky.richtext.facet#link"
	mentionFeature = "app.bsky.richtext.facet#mention"
)

var (
	linkRe = regexp.MustCompile(`https?://[^\s<>"]+`)
	// mentionRe: @handle, where a handle is a domain name; preceded by start, space or "(".
	mentionRe = regexp.MustCompile(`(^|[\s(])@([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+)`)
)

// linkSpans returns the byte spans of http(s) URLs in s, without the punctuation that ends
// a sentence or a bracket the URL did not open.
func linkSpans(s string) [][2]int {
	var spans [][2]int
	for _, loc := range linkRe.FindAllStringIndex(s, -1) {
		start, end := loc[0], loc[1]
		for end > start {
			r, size := utf8.DecodeLastRuneInString(s[start:end])
			if strings.ContainsRune(".,:;!?'\"", r) {
				end -= size
				continue
			}
			if open := map[rune]rune{')': '(', ']': '['}[r]; open != 0 &&
				strings.Count(s[start:end], string(r)) > strings.Count(s[start:end], string(open)) {
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

// resolver finds the DID of a handle; ok is false when the handle does not resolve.
type resolver func(ctx context.Context, handle string) (did string, ok bool, err error)

// facets finds the links and mentions in text. Mentions of handles that do not resolve get
// no facet (they stay plain text, as in the Bluesky app).
func facets(ctx context.Context, text string, resolve resolver) ([]Facet, error) {
	var out []Facet
	links := linkSpans(text)
	for _, sp := range links {
		out = append(out, Facet{Index: ByteSlice{sp[0], sp[1]}, Features: []FacetFeature{{Type: linkFeature, URI: text[sp[0]:sp[1]]}}})
	}
	for _, m := range mentionRe.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[3], m[5] // from "@" (just after the prefix) to the handle's end
		inLink := false
		for _, sp := range links {
			inLink = inLink || (start >= sp[0] && start < sp[1])
		}
		if inLink {
			continue
		}
		handle := strings.ToLower(text[m[4]:end])
		did, ok, err := resolve(ctx, handle)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, Facet{Index: ByteSlice{start, start + 1 + len(handle)}, Features: []FacetFeature{{Type: mentionFeature, DID: did}}})
		}
	}
	return out, nil
}

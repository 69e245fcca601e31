// Package weblink reads the links a web page advertises, in its HTTP Link header (RFC 8288)
// and in its HTML <link> and <a> elements, as the wordpress plugin (REST API discovery,
// rel="https://api.w.org/") and the micropub plugin (rel="micropub", "media-endpoint")
// find their endpoints.
package weblink

import (
	"io"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Link is one link: its target as written and its relation types.
type Link struct {
	URL  string
	Rels []string
}

// Rel reports whether l has relation type rel (compared without regard to case, as RFC
// 8288 says for registered types).
func (l Link) Rel(rel string) bool {
	for _, r := range l.Rels {
		if strings.EqualFold(r, rel) {
			return true
		}
	}
	return false
}

// ParseHeader reads Link header values: `<https://a/>; rel="x y", <b>; rel=z`. Links
// without a rel, and parts it cannot read, are skipped.
func ParseHeader(values []string) []Link {
	var out []Link
	for _, v := range values {
		for v = strings.TrimSpace(v); strings.HasPrefix(v, "<"); {
			end := strings.IndexByte(v, '>')
			if end < 0 {
				break
			}
			l := Link{URL: v[1:end]}
			v = v[end+1:]
			// Parameters up to the next link; a quoted value may hold ',' or ';'.
			for {
				v = strings.TrimLeft(v, " \t")
				if !strings.HasPrefix(v, ";") {
					break
				}
				v = strings.TrimLeft(v[1:], " \t")
				eq := strings.IndexAny(v, "=;,")
				if eq < 0 || v[eq] != '=' {
					name := v
					if eq >= 0 {
						name = v[:eq]
					}
					v = v[len(name):]
					continue
				}
				name := strings.ToLower(strings.TrimSpace(v[:eq]))
				v = strings.TrimLeft(v[eq+1:], " \t")
				var value string
				if strings.HasPrefix(v, `"`) {
					close := strings.IndexByte(v[1:], '"')
					if close < 0 {
						value, v = v[1:], ""
					} else {
						value, v = v[1:close+1], v[close+2:]
					}
				} else {
					stop := strings.IndexAny(v, ";,")
					if stop < 0 {
						stop = len(v)
					}
					value, v = strings.TrimSpace(v[:stop]), v[stop:]
				}
				if name == "rel" && l.Rels == nil {
					l.Rels = strings.Fields(value)
				}
			}
			if len(l.Rels) > 0 {
				out = append(out, l)
			}
			v = strings.TrimLeft(v, " \t")
			v = strings.TrimPrefix(v, ",")
			v = strings.TrimSpace(v)
		}
	}
	return out
}

// ParseHTML reads the <link> and <a> elements with both href and rel of an HTML page, up
// to the end of r, and the page's <base href> if it has one ("" otherwise).
func ParseHTML(r io.Reader) (links []Link, base string) {
	z := html.NewTokenizer(r)
	for {
		switch z.Next() {
		case html.ErrorToken:
			return links, base
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if (tag != "link" && tag != "a" && tag != "base") || !hasAttr {
				continue
			}
			var l Link
			href, hasHref := "", false
			for {
				k, v, more := z.TagAttr()
				switch string(k) {
				case "href":
					href, hasHref = string(v), true
				case "rel":
					l.Rels = strings.Fields(string(v))
				}
				if !more {
					break
				}
			}
			switch {
			case tag == "base" && hasHref && base == "":
				base = href
			case tag != "base" && hasHref && len(l.Rels) > 0:
				l.URL = href
				links = append(links, l)
			}
		}
	}
}

// Resolve is target read relative to the page at base: an absolute URL, or an error.
func Resolve(base *url.URL, target string) (*url.URL, error) {
	return base.Parse(strings.TrimSpace(target))
}

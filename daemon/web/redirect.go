package web

import (
	"net/url"
	"strings"
)

// safeNext returns next if a browser following it as a redirect stays on this site, and "/"
// otherwise. It is the one check for every place that redirects to a URL taken from a
// request: the login's next and the forms' back.
//
// Browsers are generous readers of a Location header: they treat "\" as "/", drop tabs and
// newlines, and follow "//host" and "scheme:" to other places. So only a plain path on this
// site is accepted, in printable ASCII, starting with a single "/", with no scheme or host,
// and with no backslash or control character even once percent-decoded (the form decodes
// once; something downstream may decode again).
func safeNext(next string) string {
	if !sameSitePath(next) {
		return "/"
	}
	return next
}

// maxNext bounds what is carried from page to login and back; a real page's address is short.
const maxNext = 2048

func sameSitePath(p string) bool {
	if len(p) == 0 || len(p) > maxNext || !plainPath(p, true) {
		return false
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	// Check it as decoded too, until decoding changes nothing (an encoded "%" decodes to a
	// new escape): a few rounds cover whatever anything downstream would decode.
	for range 4 {
		d, err := url.PathUnescape(p)
		if err != nil {
			return false
		}
		if d == p {
			return true
		}
		if !plainPath(d, false) {
			return false
		}
		p = d
	}
	return false
}

// plainPath: starts with one "/" (not "//" nor "/\"), no backslash, no control character.
// As sent (raw), only printable ASCII without spaces: a page's address is escaped; decoded,
// other characters (an "é", a space) are only path text to a browser.
func plainPath(p string, raw bool) bool {
	if len(p) == 0 || p[0] != '/' || strings.HasPrefix(p, "//") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < ' ' || c == 0x7f || c == '\\' || raw && (c == ' ' || c > 0x7f) {
			return false
		}
	}
	return true
}

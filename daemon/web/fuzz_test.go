package web

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzSafeNext: whatever a request puts in next, the redirect safeNext allows, resolved as a
// browser would (net/url's ResolveReference, after a browser's own clean-up of tabs,
// newlines and backslashes), stays on this host; and what it allows, it allows unchanged.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/ok?x=1", "//evil", `/\evil`, "/%5Cevil", "/%2F%2Fevil", "\t//evil", "https://evil",
		"javascript:alert(1)", "/%252F%252Fevil", "/\t/evil", "/a/../../b", "/%2e%2e/%2e%2e/x", "/?next=//evil", "/#//evil", "/@evil", "/:evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("http://tact.example/login?next=x")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q: it must return next unchanged or /", next, got)
		}
		// What a browser reads: tabs and newlines dropped, "\" taken as "/" (WHATWG URL).
		seen := strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(got)
		for _, form := range []string{seen, unescapeAll(seen)} {
			ref, err := url.Parse(form)
			if err != nil {
				t.Fatalf("safeNext(%q) = %q, which does not parse: %v", next, got, err)
			}
			to := base.ResolveReference(ref)
			if to.Scheme != "http" || to.Host != "tact.example" || to.User != nil {
				t.Fatalf("safeNext(%q) = %q leads a browser to %s", next, got, to)
			}
		}
	})
}

func unescapeAll(s string) string {
	for range 8 {
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			return s
		}
		s = d
	}
	return s
}

// FuzzSessionCookie: the session cookie's decoder never panics, accepts only what this
// server's key made (one spelling of each id: re-encoding gives the same value back), and
// every id the server makes comes back whole; another key's cookies are refused.
func FuzzSessionCookie(f *testing.F) {
	h := &Handler{key: []byte("0123456789abcdef0123456789abcdef")}
	other := &Handler{key: []byte("fedcba9876543210fedcba9876543210")}
	good := h.encodeSessionCookie(newSessionID())
	for _, s := range []string{good, good[:len(good)-1], good + "A", strings.Replace(good, ".", "|", 1), "." + good, "", ".",
		strings.Repeat("A", sessionIDLen) + "." + strings.Repeat("A", sessionIDLen), other.encodeSessionCookie(newSessionID())} {
		f.Add(s, []byte("0123456789abcdef0123456789abcdef"))
	}
	f.Fuzz(func(t *testing.T, v string, raw []byte) {
		if id, ok := h.decodeSessionCookie(v); ok {
			if again := h.encodeSessionCookie(id); again != v {
				t.Fatalf("cookie %q accepted as id %q, which this server spells %q", v, id, again)
			}
			if _, ok := other.decodeSessionCookie(v); ok {
				t.Fatalf("cookie %q accepted under two keys", v)
			}
		}
		if len(raw) != sessionIDBytes {
			return
		}
		id := cookieB64.EncodeToString(raw)
		c := h.encodeSessionCookie(id)
		if got, ok := h.decodeSessionCookie(c); !ok || got != id {
			t.Fatalf("the cookie made for id %q decodes as %q, %v", id, got, ok)
		}
		if _, ok := other.decodeSessionCookie(c); ok {
			t.Fatalf("a cookie made under one key is accepted under another: %q", c)
		}
	})
}

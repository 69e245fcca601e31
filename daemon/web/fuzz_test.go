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

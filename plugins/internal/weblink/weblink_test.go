package weblink

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseHeader(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []Link
	}{
		{[]string{`<https://blog.example/wp-json/>; rel="https://api.w.org/"`}, []Link{{"https://blog.example/wp-json/", []string{"https://api.w.org/"}}}},
		{[]string{`<https://a.example/micropub>; rel="micropub", </media>; rel=media-endpoint`},
			[]Link{{"https://a.example/micropub", []string{"micropub"}}, {"/media", []string{"media-endpoint"}}}},
		// A quoted title may hold ',' and ';'; several rels; parameters without a value.
		{[]string{`<https://x.example/>; title="a, b; c"; rel="micropub authorization_endpoint"; crossorigin`},
			[]Link{{"https://x.example/", []string{"micropub", "authorization_endpoint"}}}},
		// Only the first rel counts (RFC 8288); a link without rel is skipped.
		{[]string{`<https://x.example/a>; rel=first; rel=second`, `<https://x.example/b>; type="text/html"`},
			[]Link{{"https://x.example/a", []string{"first"}}}},
		{[]string{`not a link`, `<unclosed; rel=x`, ``, `<https://x.example/>; rel="unterminated`}, []Link{{"https://x.example/", []string{"unterminated"}}}},
	} {
		if got := ParseHeader(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseHeader(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
	if !(Link{Rels: []string{"Micropub"}}).Rel("micropub") {
		t.Error("Rel must compare without regard to case")
	}
}

func TestParseHTML(t *testing.T) {
	page := `<!doctype html><html><head>
<base href="https://site.example/blog/">
<link rel="stylesheet" href="/style.css">
<link rel="micropub" href="micropub">
<LINK REL="Media-Endpoint authorization_endpoint" HREF="https://media.example/up">
<link href="/no-rel">
<link rel="micropub">
</head><body><a rel="me" href="https://social.example/@me">me</a><base href="https://ignored.example/"></body></html>`
	links, base := ParseHTML(strings.NewReader(page))
	want := []Link{
		{"/style.css", []string{"stylesheet"}},
		{"micropub", []string{"micropub"}},
		{"https://media.example/up", []string{"Media-Endpoint", "authorization_endpoint"}},
		{"https://social.example/@me", []string{"me"}},
	}
	if base != "https://site.example/blog/" || !reflect.DeepEqual(links, want) {
		t.Fatalf("ParseHTML = %+v, base %q", links, base)
	}
	b, _ := url.Parse(base)
	if u, err := Resolve(b, " micropub "); err != nil || u.String() != "https://site.example/blog/micropub" {
		t.Fatalf("Resolve = %v, %v", u, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`<https://a/>; rel="x y", <b>; rel=z`)
	f.Add(`<html><link rel=micropub href=/m><base href=x>`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range ParseHeader([]string{s}) {
			if len(l.Rels) == 0 {
				t.Fatalf("a link without rels: %+v", l)
			}
		}
		links, _ := ParseHTML(strings.NewReader(s))
		for _, l := range links {
			if len(l.Rels) == 0 {
				t.Fatalf("an HTML link without rels: %+v", l)
			}
		}
	})
}

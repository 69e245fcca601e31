package sdk

import "testing"

func TestTextWithLink(t *testing.T) {
	const link = "https://tact.example/offer"
	for _, tc := range []struct {
		name string
		post Post
		want string
	}{
		{"no link", Post{Text: "hello"}, "hello"},
		{"appended after a blank line", Post{Text: "hello", Link: link}, "hello\n\n" + link},
		{"trailing space and newlines dropped", Post{Text: "hello \t\n\n", Link: link}, "hello\n\n" + link},
		{"already in the text", Post{Text: "see " + link + " now", Link: link}, "see " + link + " now"},
		{"only a link", Post{Text: " \n", Link: link}, link},
		{"empty", Post{}, ""},
	} {
		if got := TextWithLink(tc.post); got != tc.want {
			t.Errorf("%s: TextWithLink(%+v) = %q, want %q", tc.name, tc.post, got, tc.want)
		}
	}
}

func TestJoinProblems(t *testing.T) {
	got := JoinProblems([]Problem{{Field: "text", Message: "is too long"}, {Field: "link", Message: "is not a URL"}})
	if want := "link: is not a URL; text: is too long"; got != want {
		t.Errorf("JoinProblems = %q, want %q", got, want)
	}
	if got := JoinProblems(nil); got != "" {
		t.Errorf("JoinProblems(nil) = %q, want empty", got)
	}
}

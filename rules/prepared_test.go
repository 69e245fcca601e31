package rules

import (
	"path/filepath"
	"reflect"
	"testing"
)

// MatchPrepared answers what MatchPost answers, for every rule of the default pack (most of
// which share names with the news) against the clash corpus, with a post prepared once for
// all the rules, and by another set than the one matching.
func TestMatchPreparedIsMatchPost(t *testing.T) {
	set, err := LoadFiles([]string{filepath.Join("default", "*.toml")})
	if err != nil {
		t.Fatal(err)
	}
	other, err := LoadFiles([]string{filepath.Join("default", "air.toml")})
	if err != nil {
		t.Fatal(err)
	}
	cases := readCorpus(t)
	matched := 0
	for _, c := range cases {
		k := c.toCase()
		in := PostInput{Text: k.Post, Topics: k.Topics, Language: c.Lang}
		news := []Text{{Title: c.Headline, Summary: c.Summary, Language: c.Lang}, {Title: "Second report: " + c.Headline}}
		pp, pn := set.PreparePost(in), PrepareNews(news)
		foreign := other.PreparePost(in)
		for _, r := range set.Rules() {
			want, wantOK := set.MatchPost(r, in, news)
			got, ok := set.MatchPrepared(r, pp, pn)
			if ok != wantOK || !reflect.DeepEqual(got, want) {
				t.Fatalf("case %s, rule %s: MatchPrepared %v %+v, MatchPost %v %+v", c.ID, r.ID, ok, got, wantOK, want)
			}
			if got, ok := set.MatchPrepared(r, foreign, pn); ok != wantOK || !reflect.DeepEqual(got, want) {
				t.Fatalf("case %s, rule %s, post prepared by another set: %v %+v, MatchPost %v %+v", c.ID, r.ID, ok, got, wantOK, want)
			}
			if ok {
				matched++
			}
		}
	}
	if len(cases) < 50 || matched < 100 {
		t.Fatalf("%d corpus cases, %d matches: the comparison saw too little", len(cases), matched)
	}
	if _, ok := set.MatchPrepared(other.Rules()[0], set.PreparePost(PostInput{Text: "Fly to Lisbon"}), PrepareNews(nil)); ok {
		t.Error("a rule of another set matched")
	}
}

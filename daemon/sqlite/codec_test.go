package sqlite

import (
	"encoding/json"
	"reflect"
	"testing"
)

var listCases = []string{
	`[]`, `[""]`, `["a"]`, `["a","b"]`, `["a",""]`, `[","]`, `["",""]`, `["brand-mastodon","brand-bsky"]`,
	`["a\"b"]`, `["a\\b","c"]`, `["\u003cb\u003e"]`, `["café"]`, `[ "a" ]`, `["a" ,"b"]`, `["a"],["b"]`,
	`["a"]]`, `[["a"]]`, `["a",1]`, `["tab	in"]`, `[null]`, `["a","b",]`, "[\"\x7f\"]",
}

// checkList: parseList[string] reads exactly what json.Unmarshal reads, and fails where it fails.
func checkList(t *testing.T, s string) {
	t.Helper()
	got, err := parseList[string](s)
	var want []string
	wantErr := json.Unmarshal([]byte(s), &want)
	if s == "" || s == "[]" {
		want, wantErr = nil, nil // an empty list reads as nil
	}
	if (err != nil) != (wantErr != nil) || (err == nil && !reflect.DeepEqual(got, want)) {
		t.Fatalf("parseList(%q) = %#v, %v; json.Unmarshal: %#v, %v", s, got, err, want, wantErr)
	}
}

func TestParseListMatchesJSON(t *testing.T) {
	for _, s := range listCases {
		checkList(t, s)
	}
	for _, v := range [][]string{{"a"}, {"x", "y", "z"}, {"", "quote\"d", "back\\slash"}, {"<&>", "ünï", "new\nline"}} {
		checkList(t, jsonList(v))
		if got, _ := parseList[string](jsonList(v)); !reflect.DeepEqual(got, v) {
			t.Errorf("round trip of %q: %q", v, got)
		}
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range listCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkList(t, s) })
}

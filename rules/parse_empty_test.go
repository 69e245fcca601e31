package rules

import (
	"strings"
	"testing"
)

func TestLoadFilesWithNoGlobsIsAnEmptySet(t *testing.T) {
	s, err := LoadFiles(nil)
	if err != nil {
		t.Fatalf("no globs (rules = [] in tact.toml) refused: %v", err)
	}
	if s.Len() != 0 || len(s.MatchNews(Text{Title: "Airliner crashes after take-off", Language: "en"})) != 0 {
		t.Fatalf("empty set matched something")
	}
	if _, err := LoadFiles([]string{"/nonexistent/dir/*.toml"}); err == nil {
		t.Fatal("a glob matching no file was accepted")
	}
}

func TestRuleKeysMustBeLowerCase(t *testing.T) {
	src := "[[rule]]\nid = \"x\"\nAction = \"pause\"\n[rule.news]\nany = [\"crash\"]\n[rule.posts]\ntopics = [\"travel\"]\n"
	_, err := Parse(map[string][]byte{"r.toml": []byte(src)})
	if err == nil || !strings.Contains(err.Error(), `r.toml:3: key "Action" must be written in lower case`) {
		t.Fatalf("want a lower-case error at line 3, got %v", err)
	}
}

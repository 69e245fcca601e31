package rules

import "testing"

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

package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadDefault(t *testing.T) *Set {
	t.Helper()
	set, err := LoadFiles([]string{"default/*.toml"})
	if err != nil {
		t.Fatalf("default pack: %v", err)
	}
	return set
}

func TestDefaultPackLoads(t *testing.T) {
	set := loadDefault(t)
	want := []string{"air-disaster", "rail-disaster", "sea-disaster", "wildfire", "flood", "storm",
		"earthquake", "terror-attack", "mass-shooting", "war", "epidemic", "lockdown",
		"death-public-figure", "national-mourning", "industrial-accident"}
	for _, id := range want {
		if set.Rule(id) == nil {
			t.Errorf("default pack lacks %q", id)
		}
	}
}

// runTestFiles runs rule-test files through the production runner and fails on any case.
func runTestFiles(t *testing.T, set *Set, files []string) {
	t.Helper()
	res, err := RunTests(set, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 {
		t.Fatal("no cases")
	}
	for _, r := range res {
		if !r.Passed {
			t.Errorf("%s: %s: expected %v, fired %v: %s", filepath.Base(r.File), r.Name, r.Expected, r.Fired, r.Why)
		}
	}
}

// The pack's own tests, clashes and traps, in English and French.
func TestDefaultPackTests(t *testing.T) {
	files, _ := filepath.Glob("default/*.test.toml")
	rulesFiles, _ := filepath.Glob("default/*.toml")
	for _, f := range rulesFiles {
		if IsTestFile(f) {
			continue
		}
		if _, err := os.Stat(strings.TrimSuffix(f, ".toml") + ".test.toml"); err != nil {
			t.Errorf("%s has no test file beside it", f)
		}
	}
	runTestFiles(t, loadDefault(t), files)
}

// Cases written apart from the corpus, with other events and brands.
func TestDefaultPackGeneralises(t *testing.T) {
	runTestFiles(t, loadDefault(t), []string{"testdata/generalisation.test.toml"})
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tact-hq/tact/daemon/api"
)

// tactctl runs the CLI in-process and returns exit status, stdout and stderr.
func tactctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodRule = `[[rule]]
id          = "air-disaster"
description = "No travel promotion during an air disaster."
action      = "pause"
window      = "72h"

[rule.news]
any  = ["plane crash", "crash"]
with = ["plane", "jet", "jetliner", "avion"]
not  = ["crash course"]

[rule.posts]
topics = ["travel"]
any    = ["fly", "flight", "vol"]
`

func TestRulesCheckRefusesBadFileWithLine(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.toml", `[[rule]]
id     = "x"
action = "pause"
window = "3 days"
colour = "red"

[rule.news]
any = []

[rule.posts]
topics = ["travel"]
`)
	code, out, errOut := tactctl(t, "rules", "check", bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stdout %q", code, out)
	}
	for _, want := range []string{bad + ":4: bad window", bad + ":5: unknown key \"rule.colour\"", bad + ":8: rule \"x\": news.any is empty"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	good := writeFile(t, dir, "good.toml", goodRule)
	code, out, errOut = tactctl(t, "rules", "check", good)
	if code != 0 || !strings.Contains(out, "OK: 1 rules in 1 files") {
		t.Fatalf("good file: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	code, _, errOut = tactctl(t, "rules", "check", filepath.Join(dir, "none-*.toml"))
	if code != 1 || !strings.Contains(errOut, "no rule file matches") {
		t.Fatalf("glob matching nothing: exit %d, stderr %q", code, errOut)
	}
}

func TestRulesTestOutputAndStatus(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "air.toml", goodRule)
	tests := writeFile(t, dir, "air.test.toml", `[[case]]
name   = "jet crash vs Lisbon promo"
news   = "Jetliner with 242 aboard crashes after take-off"
post   = "Fly to Lisbon this summer from €49"
topics = ["travel"]
expect = ["air-disaster"]

[[case]]
name   = "crash course is not a crash"
news   = "Crash course in French pastry, plane tickets not included"
post   = "Fly to Lyon for our crash course"
expect = []

[[case]]
name   = "deliberately failing"
news   = "Markets calm"
post   = "Fly to Rome"
expect = ["*"]
`)
	code, out, _ := tactctl(t, "rules", "test", tests)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "2 passed, 1 failed" {
		t.Fatalf("last line %q, want \"2 passed, 1 failed\"; output:\n%s", last, out)
	}
	if code != 1 {
		t.Fatalf("exit %d with a failing case, want 1", code)
	}
	if !strings.Contains(out, "FAIL "+tests+": deliberately failing") || !strings.Contains(out, `expected: ["*"]`) || !strings.Contains(out, "fired:    []") {
		t.Fatalf("failing case not described:\n%s", out)
	}

	code, out, _ = tactctl(t, "--json", "rules", "test", "--rules", filepath.Join(dir, "*.toml"), tests)
	if code != 1 {
		t.Fatalf("--json exit %d, want 1", code)
	}
	var res []map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output is not a JSON array: %v\n%s", err, out)
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	for _, r := range res {
		if len(r) != 5 {
			t.Errorf("result has keys %v, want exactly file, name, passed, expected, fired", r)
		}
		for _, k := range []string{"file", "name", "passed", "expected", "fired"} {
			if _, ok := r[k]; !ok {
				t.Errorf("result lacks %q: %v", k, r)
			}
		}
		if _, ok := r["fired"].([]any); !ok {
			t.Errorf("fired is not an array: %v", r["fired"])
		}
	}
	if res[0]["passed"] != true || res[2]["passed"] != false {
		t.Errorf("passed flags wrong: %v", res)
	}

	// Unknown keys in test files are errors with their line.
	badTests := writeFile(t, dir, "bad.test.toml", "[[case]]\nname = \"x\"\nnews = \"y\"\npost = \"z\"\nexpected = []\n")
	code, _, errOut := tactctl(t, "rules", "test", badTests)
	if code != 1 || !strings.Contains(errOut, badTests+":5: unknown key \"case.expected\"") {
		t.Fatalf("bad test file: exit %d, stderr %q", code, errOut)
	}
}

// The shipped pack's own tests pass, run the way an admin runs them.
func TestRulesTestDefaultPack(t *testing.T) {
	files, err := filepath.Glob("../../rules/default/*.test.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no default test files: %v", err)
	}
	code, out, errOut := tactctl(t, append([]string{"rules", "test"}, files...)...)
	if code != 0 {
		t.Fatalf("default pack tests: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.HasSuffix(strings.TrimSpace(out), " passed, 0 failed") {
		t.Fatalf("last line: %q", out)
	}
}

func TestRulesExplain(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "air.toml", goodRule)
	code, out, errOut := tactctl(t, "rules", "explain", "--rules", filepath.Join(dir, "*.toml"),
		"--news", "Plane crash near Lisbon", "--post", "Our flights to Lisbon", "--topic", "travel")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"air-disaster (pause", `news: matched "plane crash"`, `topic "travel"`, `post text "flight"`, "1 rule(s) fire"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = tactctl(t, "rules", "explain", "--rules", filepath.Join(dir, "*.toml"),
		"--news", "Crash course in pastry", "--post", "Our flights to Lisbon")
	if code != 0 || !strings.Contains(out, "nothing fires") {
		t.Fatalf("crash course: exit %d, %s", code, out)
	}
}

func TestRulesPreview(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "air.toml", goodRule)
	writeFile(t, dir, "air.test.toml", "[[case]]\nname = \"x\"\nnews = \"y\"\npost = \"z\"\nexpect = []\n")
	var got api.PreviewInput
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/rules/preview" {
			http.Error(w, `{"error":"wrong route"}`, http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, `{"error":"no token"}`, http.StatusUnauthorized)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			http.Error(w, `{"error":"bad json"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(api.Preview{
			Campaigns: []api.PreviewCampaign{{ID: 3, Name: "Summer fares", Rule: "air-disaster", Action: "pause"}},
			Posts:     []api.PreviewPost{{ID: 41, Campaign: "Knitting", Rule: "air-disaster", Action: "hold", Text: "Fly through your next sweater"}},
		})
	}))
	defer srv.Close()

	code, out, errOut := tactctl(t, "--server", srv.URL, "--token", "s3cret", "rules", "preview", "--rules", filepath.Join(dir, "*.toml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if len(got.Files) != 1 || !strings.Contains(got.Files["air.toml"], `id          = "air-disaster"`) {
		t.Fatalf("sent files %v, want only air.toml with its contents (test files are not rule files)", got.Files)
	}
	for _, want := range []string{"Summer fares", "air-disaster", "pause", "41", "Fly through your next sweater", "1 campaign(s), 1 post(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = tactctl(t, "--json", "--server", srv.URL, "--token", "s3cret", "rules", "preview", "--rules", filepath.Join(dir, "*.toml"))
	var ans map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &ans) != nil || ans["campaigns"] == nil || ans["posts"] == nil {
		t.Fatalf("--json preview: exit %d, %s", code, out)
	}

	// A bad rule file is refused locally, with its line, and nothing is sent.
	got = api.PreviewInput{}
	writeFile(t, dir, "broken.toml", "[[rule]]\nid = \"b\"\naction = \"explode\"\n")
	code, _, errOut = tactctl(t, "--server", srv.URL, "--token", "s3cret", "rules", "preview", "--rules", filepath.Join(dir, "*.toml"))
	if code != 1 || !strings.Contains(errOut, "broken.toml:3: unknown action") || got.Files != nil {
		t.Fatalf("broken file: exit %d, stderr %q, sent %v", code, errOut, got.Files)
	}
}

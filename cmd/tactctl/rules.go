package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tact-hq/tact/rules"
)

func init() {
	register("rules", "check, test and explain safety rules; preview them against the queue", rulesCmd)
}

// defaultRulesGlob is where the daemon reads rules unless tact.toml says otherwise.
const defaultRulesGlob = "/etc/tact/rules.d/*.toml"

const rulesUsage = `rules check [FILE|GLOB]...
       tactctl rules test [--rules GLOB] FILE...
       tactctl rules explain --news TEXT --post TEXT [--topic T]... [--rules GLOB]
       tactctl rules preview [--rules GLOB]`

func rulesCmd(ctx context.Context, a *App, args []string) error {
	if len(args) == 0 {
		return usageError(a.flags("rules", rulesUsage), "missing subcommand")
	}
	switch args[0] {
	case "check":
		return rulesCheck(a, args[1:])
	case "test":
		return rulesTest(a, args[1:])
	case "explain":
		return rulesExplain(a, args[1:])
	case "preview":
		return rulesPreview(ctx, a, args[1:])
	}
	return usageError(a.flags("rules", rulesUsage), "unknown subcommand %q", args[0])
}

// printRuleErrors prints every FILE:LINE problem on its own line to stderr.
func printRuleErrors(a *App, err error) error {
	var re *rules.Errors
	if errors.As(err, &re) {
		for _, e := range re.List {
			fmt.Fprintln(a.Stderr, e.String())
		}
		fmt.Fprintf(a.Stderr, "%d problem(s); nothing was changed\n", len(re.List))
	} else {
		fmt.Fprintln(a.Stderr, "tactctl:", err)
	}
	return exitError{1}
}

type checkJSON struct {
	OK     bool          `json:"ok"`
	Rules  int           `json:"rules"`
	Files  []string      `json:"files"`
	Errors []rules.Error `json:"errors"`
}

func rulesCheck(a *App, args []string) error {
	fs := a.flags("rules check", "rules check [FILE|GLOB]...  (default "+defaultRulesGlob+")")
	globs, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(globs) == 0 {
		globs = []string{defaultRulesGlob}
	}
	files, err := rules.ExpandGlobs(globs)
	var set *rules.Set
	if err == nil {
		set, err = rules.LoadFiles(files)
	}
	if a.JSON {
		out := checkJSON{OK: err == nil, Files: files, Errors: []rules.Error{}}
		if files == nil {
			out.Files = []string{}
		}
		var re *rules.Errors
		switch {
		case err == nil:
			out.Rules = set.Len()
		case errors.As(err, &re):
			out.Errors = re.List
		default:
			out.Errors = []rules.Error{{Msg: err.Error()}}
		}
		if perr := a.printJSONValue(out); perr != nil {
			return perr
		}
		if err != nil {
			return exitError{1}
		}
		return nil
	}
	if err != nil {
		return printRuleErrors(a, err)
	}
	fmt.Fprintf(a.Stdout, "OK: %d rules in %d files\n", set.Len(), len(files))
	return nil
}

// testFiles expands the test-file arguments (globs allowed).
func testFiles(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, arg := range args {
		matches := []string{arg}
		if strings.ContainsAny(arg, "*?[") {
			m, err := filepath.Glob(arg)
			if err != nil || len(m) == 0 {
				return nil, fmt.Errorf("no test file matches %q", arg)
			}
			matches = m
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}

func rulesTest(a *App, args []string) error {
	fs := a.flags("rules test", "rules test [--rules GLOB]... FILE.test.toml...\n\nWithout --rules, each test file runs against the rule files (*.toml, not *.test.toml) beside it.")
	var globs list
	fs.Var(&globs, "rules", "rule files to test (glob; repeatable)")
	args, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usageError(fs, "name at least one test file (*.test.toml)")
	}
	files, err := testFiles(args)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	// Group the test files by the rule set they run against.
	type group struct {
		globs []string
		files []string
	}
	var groups []*group
	if len(globs) > 0 {
		groups = []*group{{globs: globs, files: files}}
	} else {
		byDir := map[string]*group{}
		for _, f := range files {
			dir := filepath.Dir(f)
			g := byDir[dir]
			if g == nil {
				g = &group{globs: []string{filepath.Join(dir, "*.toml")}}
				byDir[dir] = g
				groups = append(groups, g)
			}
			g.files = append(g.files, f)
		}
	}
	results := []rules.CaseResult{}
	for _, g := range groups {
		set, err := rules.LoadFiles(g.globs)
		if err != nil {
			return printRuleErrors(a, err)
		}
		res, err := rules.RunTests(set, g.files)
		if err != nil {
			return printRuleErrors(a, err)
		}
		results = append(results, res...)
	}
	failed := 0
	for _, r := range results {
		if !r.Passed {
			failed++
		}
	}
	if a.JSON {
		if err := a.printJSONValue(results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			if r.Passed {
				continue
			}
			fmt.Fprintf(a.Stdout, "FAIL %s: %s\n  expected: %s\n  fired:    %s\n", r.File, r.Name, jsonList(r.Expected), jsonList(r.Fired))
			if r.Why != "" {
				fmt.Fprintf(a.Stdout, "  why:      %s\n", r.Why)
			}
		}
		fmt.Fprintf(a.Stdout, "%d passed, %d failed\n", len(results)-failed, failed)
	}
	if failed > 0 {
		return exitError{1}
	}
	return nil
}

func jsonList(xs []string) string {
	b, _ := json.Marshal(xs)
	return string(b)
}

type explainJSON struct {
	Rule       string   `json:"rule"`
	Action     string   `json:"action"`
	Fires      bool     `json:"fires"`
	NewsTerms  []string `json:"news_terms"`
	NewsAlso   []string `json:"news_also"`
	PostTopics []string `json:"post_topics"`
	PostTerms  []string `json:"post_terms"`
	Shared     []string `json:"shared"`
	Places     []string `json:"places"`
}

func rulesExplain(a *App, args []string) error {
	fs := a.flags("rules explain", "rules explain --news TEXT --post TEXT [--topic T]... [--rules GLOB]...")
	news := fs.String("news", "", "the news item's text (headline, then summary)")
	post := fs.String("post", "", "the post's text")
	var topics, globs list
	fs.Var(&topics, "topic", "a campaign topic (repeatable)")
	fs.Var(&globs, "rules", "rule files (glob; repeatable; default "+defaultRulesGlob+")")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fs, "unexpected arguments %q", rest)
	}
	if strings.TrimSpace(*news) == "" {
		return usageError(fs, "--news is required")
	}
	if strings.TrimSpace(*post) == "" && len(topics) == 0 {
		return usageError(fs, "give --post or at least one --topic")
	}
	if len(globs) == 0 {
		globs = list{defaultRulesGlob}
	}
	set, err := rules.LoadFiles(globs)
	if err != nil {
		return printRuleErrors(a, err)
	}
	newsText := rules.Text{Title: *news}
	postIn := rules.PostInput{Text: *post, Topics: topics}
	out := []explainJSON{}
	for _, nm := range set.MatchNews(newsText) {
		pm, fires := set.MatchPost(nm.Rule, postIn, []rules.Text{newsText})
		out = append(out, explainJSON{
			Rule: nm.Rule.ID, Action: nm.Rule.Action, Fires: fires,
			NewsTerms: nonNil(nm.Terms), NewsAlso: nonNil(nm.Also),
			PostTopics: nonNil(pm.Topics), PostTerms: nonNil(pm.Terms), Shared: nonNil(pm.Shared),
			Places: nonNil(pm.Places),
		})
	}
	if a.JSON {
		return a.printJSONValue(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(a.Stdout, "no rule's news side matches this news: nothing fires")
		return nil
	}
	fired := 0
	for _, e := range out {
		r := set.Rule(e.Rule)
		fmt.Fprintf(a.Stdout, "%s (%s, %s:%d)\n", e.Rule, e.Action, r.File, r.Line)
		news := "  news: matched " + quoted(e.NewsTerms)
		if len(e.NewsAlso) > 0 {
			news += " with " + quoted(e.NewsAlso)
		}
		fmt.Fprintln(a.Stdout, news)
		if e.Fires {
			fired++
			var why []string
			if len(e.PostTopics) > 0 {
				why = append(why, "topic "+quoted(e.PostTopics))
			}
			if len(e.PostTerms) > 0 {
				why = append(why, "post text "+quoted(e.PostTerms))
			}
			if len(e.Shared) > 0 {
				why = append(why, "shared names "+quoted(e.Shared))
			}
			if len(e.Places) > 0 {
				why = append(why, "places "+strings.Join(e.Places, "; "))
			}
			fmt.Fprintf(a.Stdout, "  post: CLASH on %s -> %s\n", strings.Join(why, "; "), e.Action)
		} else {
			fmt.Fprintln(a.Stdout, "  post: no clash (none of the rule's topics, terms or shared names)")
		}
	}
	fmt.Fprintf(a.Stdout, "%d rule(s) fire\n", fired)
	return nil
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func quoted(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// previewAnswer is the daemon's answer to POST /api/v1/rules/preview.
type previewAnswer struct {
	Campaigns []struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Rule   string `json:"rule"`
		Action string `json:"action"`
	} `json:"campaigns"`
	Posts []struct {
		ID       int64  `json:"id"`
		Campaign string `json:"campaign"`
		Rule     string `json:"rule"`
		Action   string `json:"action"`
		Text     string `json:"text"`
	} `json:"posts"`
	// Headlines are the recent context items that would open incidents, by rule id.
	Headlines map[string][]string `json:"headlines"`
}

func rulesPreview(ctx context.Context, a *App, args []string) error {
	fs := a.flags("rules preview", "rules preview [--rules GLOB]...\n\nSends the rule files to the daemon, which says which campaigns and posts they would act on\nif the news that opened its current incidents matched them. Nothing is changed.")
	var globs list
	fs.Var(&globs, "rules", "rule files (glob; repeatable; default "+defaultRulesGlob+")")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fs, "unexpected arguments %q", rest)
	}
	if len(globs) == 0 {
		globs = list{defaultRulesGlob}
	}
	paths, err := rules.ExpandGlobs(globs)
	if err != nil {
		return printRuleErrors(a, err)
	}
	files := map[string]string{}
	local := map[string][]byte{}
	from := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("cannot read %s: %v", p, err)
		}
		name := filepath.Base(p)
		if prev, dup := from[name]; dup {
			return fmt.Errorf("two rule files are both named %s (%s and %s): the daemon keys files by name; rename one", name, prev, p)
		}
		from[name] = p
		files[name] = string(b)
		local[p] = b
	}
	// Same parser as the daemon: refuse locally, with file and line, before sending.
	if _, err := rules.Parse(local); err != nil {
		return printRuleErrors(a, err)
	}
	raw, err := a.send(ctx, http.MethodPost, "/api/v1/rules/preview", map[string]any{"files": files})
	if err != nil {
		return err
	}
	var ans previewAnswer
	if printed, err := a.printJSONOr(raw, &ans); printed || err != nil {
		return err
	}
	sort.SliceStable(ans.Campaigns, func(i, j int) bool { return ans.Campaigns[i].ID < ans.Campaigns[j].ID })
	sort.SliceStable(ans.Posts, func(i, j int) bool { return ans.Posts[i].ID < ans.Posts[j].ID })
	ids := make([]string, 0, len(ans.Headlines))
	for id := range ans.Headlines {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, h := range ans.Headlines[id] {
			fmt.Fprintf(a.Stdout, "%s would open on: %s\n", id, clip(h, 90))
		}
	}
	if len(ans.Campaigns) == 0 && len(ans.Posts) == 0 {
		fmt.Fprintln(a.Stdout, "these rules would act on no campaign and no post")
		return nil
	}
	if len(ans.Campaigns) > 0 {
		t := newTable(a.Stdout, "CAMPAIGN", "NAME", "RULE", "ACTION")
		for _, c := range ans.Campaigns {
			t.row(fmt.Sprint(c.ID), c.Name, c.Rule, c.Action)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(ans.Posts) > 0 {
		if len(ans.Campaigns) > 0 {
			fmt.Fprintln(a.Stdout)
		}
		t := newTable(a.Stdout, "POST", "CAMPAIGN", "RULE", "ACTION", "TEXT")
		for _, p := range ans.Posts {
			t.row(fmt.Sprint(p.ID), p.Campaign, p.Rule, p.Action, clip(p.Text, 60))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.Stdout, "%d campaign(s), %d post(s) would be acted on\n", len(ans.Campaigns), len(ans.Posts))
	return nil
}

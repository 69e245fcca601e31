package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// IsTestFile reports whether a path is a rule test file (*.test.toml), not a rule file.
func IsTestFile(path string) bool { return strings.HasSuffix(path, ".test.toml") }

// ExpandGlobs resolves globs to the rule files they name, sorted and without duplicates,
// skipping *.test.toml; a directory stands for its *.toml files. A glob that names no rule
// file is an error.
func ExpandGlobs(globs []string) ([]string, error) {
	var errs Errors
	seen := map[string]bool{}
	var files []string
	for _, g := range globs {
		matches, err := filepath.Glob(g)
		if err != nil {
			errs.add(g, 0, "bad glob: %v", err)
			continue
		}
		// A directory stands for the rule files in it.
		var expanded []string
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.IsDir() {
				inDir, _ := filepath.Glob(filepath.Join(m, "*.toml"))
				expanded = append(expanded, inDir...)
				continue
			}
			expanded = append(expanded, m)
		}
		n := 0
		for _, m := range expanded {
			if IsTestFile(m) {
				continue
			}
			n++
			if !seen[m] {
				seen[m] = true
				files = append(files, m)
			}
		}
		if n == 0 {
			errs.add(g, 0, "no rule file matches this pattern; check the path (test files *.test.toml are not rule files)")
		}
	}
	sort.Strings(files)
	return files, errs.err()
}

// LoadFiles reads the rule files the globs name and parses them as one set.
func LoadFiles(globs []string) (*Set, error) {
	if len(globs) == 0 {
		// `rules = []` in tact.toml: the admin chose to run without safety rules.
		return &Set{byID: map[string]*Rule{}, aliases: newAliasIndex(nil), m: compile(nil)}, nil
	}
	files, err := ExpandGlobs(globs)
	if err != nil {
		return nil, err
	}
	contents := make(map[string][]byte, len(files))
	var errs Errors
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs.add(f, 0, "cannot read: %v", err)
			continue
		}
		contents[f] = b
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return Parse(contents)
}

// The TOML shapes. Strings for durations so a bad one is reported with its line.
type fileDoc struct {
	Rule  []ruleDoc  `toml:"rule"`
	Alias []aliasDoc `toml:"alias"`
}

// aliasDoc is one group of names for the same thing ("Brussels", "Bruxelles").
type aliasDoc struct {
	Names []string `toml:"names"`
}

type ruleDoc struct {
	ID          string     `toml:"id"`
	Description string     `toml:"description"`
	Action      string     `toml:"action"`
	Window      *string    `toml:"window"`
	Resume      string     `toml:"resume"`
	News        *newsDoc   `toml:"news"`
	Posts       *postsDoc  `toml:"posts"`
	Places      *placesDoc `toml:"places"`
}

type newsDoc struct {
	Any        []string `toml:"any"`
	All        []string `toml:"all"`
	With       []string `toml:"with"`
	Not        []string `toml:"not"`
	Unless     []string `toml:"unless"`
	MinSources *int     `toml:"min_sources"`
}

type postsDoc struct {
	Topics []string `toml:"topics"`
	Any    []string `toml:"any"`
	Shared []string `toml:"shared"`
	Not    []string `toml:"not"`
	Unless []string `toml:"unless"`
}

// DefaultWindow is how long an incident stays open after its latest item when a rule
// does not say.
const DefaultWindow = 72 * time.Hour

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Parse validates rule files (name -> contents) as a whole and compiles them. On any
// problem it returns a *Errors listing every one as FILE:LINE: message, and no set.
func Parse(files map[string][]byte) (*Set, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)

	var errs Errors
	var all []*Rule
	var aliases [][]string
	firstSeen := map[string]*Rule{}
	for _, name := range names {
		rs, as := parseFile(name, files[name], &errs)
		aliases = append(aliases, as...)
		for _, r := range rs {
			if prev, dup := firstSeen[r.ID]; dup {
				errs.add(r.File, r.Line, "duplicate rule id %q: already defined at %s:%d; ids must be unique across all rule files", r.ID, prev.File, prev.Line)
				continue
			}
			firstSeen[r.ID] = r
			all = append(all, r)
		}
	}
	if len(names) == 0 {
		errs.add("(rules)", 0, "no rule files given")
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return &Set{rules: all, byID: firstSeen, aliases: newAliasIndex(aliases), m: compile(all)}, nil
}

// parseFile decodes and validates one file, adding its problems to errs.
func parseFile(name string, data []byte, errs *Errors) ([]*Rule, [][]string) {
	var doc fileDoc
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		errs.add(name, tomlErrLine(err), "invalid TOML: %s", tomlErrMsg(err))
		return nil, nil
	}
	lines := scanKeys(data)
	reportUnknown(name, md, lines, errs)
	if len(doc.Rule) == 0 && len(doc.Alias) == 0 {
		errs.add(name, 1, "no [[rule]] in this file; a rule file holds one or more [[rule]] tables (or [[alias]] tables)")
	}
	var aliases [][]string
	for i, ad := range doc.Alias {
		at := lines.line("alias", i, "names")
		if len(ad.Names) < 2 {
			errs.add(name, at, "alias needs at least two names for the same thing, as in names = [\"Brussels\", \"Bruxelles\"]")
			continue
		}
		ok := true
		for _, n := range ad.Names {
			if len(tokenize(n)) == 0 {
				errs.add(name, at, "alias has a name with no words: %q", n)
				ok = false
			}
		}
		if ok {
			aliases = append(aliases, ad.Names)
		}
	}
	var out []*Rule
	for i, rd := range doc.Rule {
		at := func(key string) int { return lines.line("rule", i, key) }
		r := &Rule{File: name, Line: at(""), ID: rd.ID, Description: rd.Description}
		ok := true
		bad := func(key, format string, args ...any) {
			errs.add(name, at(key), format, args...)
			ok = false
		}
		switch {
		case rd.ID == "":
			bad("", "rule has no id; add id = \"some-name\"")
		case !idPattern.MatchString(rd.ID):
			bad("id", "rule id %q must be lower-case letters, digits, '.', '_' or '-'", rd.ID)
		}
		r.Action = rd.Action
		switch rd.Action {
		case ActionPause, ActionHold, ActionFlag:
		case "":
			bad("", "rule %q has no action; set action = \"pause\", \"hold\" or \"flag\"", rd.ID)
		default:
			bad("action", "unknown action %q; use \"pause\", \"hold\" or \"flag\"", rd.Action)
		}
		r.Resume = rd.Resume
		switch rd.Resume {
		case ResumeManual, ResumeAuto:
		case "":
			r.Resume = ResumeManual
		default:
			bad("resume", "unknown resume %q; use \"manual\" or \"auto\"", rd.Resume)
		}
		r.Window = DefaultWindow
		if rd.Window != nil {
			d, err := time.ParseDuration(*rd.Window)
			switch {
			case err != nil:
				bad("window", "bad window %q: a duration like \"72h\" or \"90m\" is expected", *rd.Window)
			case d <= 0:
				bad("window", "window %q must be positive", *rd.Window)
			default:
				r.Window = d
			}
		}
		r.MinSources = 1
		if rd.News == nil {
			bad("", "rule %q has no [rule.news] table; it needs at least news.any", rd.ID)
		} else {
			n := rd.News
			if len(n.Any) == 0 {
				bad("news.any", "rule %q: news.any is empty; list the words or phrases that open an incident", rd.ID)
			}
			if n.MinSources != nil {
				if *n.MinSources < 1 {
					bad("news.min_sources", "min_sources must be 1 or more, not %d", *n.MinSources)
				} else {
					r.MinSources = *n.MinSources
				}
			}
			r.News = NewsSide{Any: n.Any, All: n.All, With: n.With, Not: n.Not, Unless: n.Unless}
			for field, list := range map[string][]string{"any": n.Any, "all": n.All, "with": n.With, "not": n.Not, "unless": n.Unless} {
				checkPhrases(list, func(format string, args ...any) { bad("news."+field, format, args...) }, "news."+field)
			}
		}
		if rd.Posts == nil {
			bad("", "rule %q has no [rule.posts] table; say which posts clash (topics, any or shared)", rd.ID)
		} else {
			p := rd.Posts
			if len(p.Topics) == 0 && len(p.Any) == 0 && len(p.Shared) == 0 && rd.Places == nil {
				bad("posts", "rule %q: posts has no topics, any or shared; nothing could ever clash", rd.ID)
			}
			for _, s := range p.Shared {
				if s != SharedNames {
					bad("posts.shared", "unknown shared kind %q; use \"names\"", s)
				}
			}
			r.Posts = PostSide{Topics: p.Topics, Any: p.Any, Shared: p.Shared, Not: p.Not, Unless: p.Unless}
			for field, list := range map[string][]string{"topics": p.Topics, "any": p.Any, "not": p.Not, "unless": p.Unless} {
				checkPhrases(list, func(format string, args ...any) { bad("posts."+field, format, args...) }, "posts."+field)
			}
		}
		if rd.Places != nil {
			r.Places = parsePlaces(rd.Places, bad)
		}
		if ok {
			for _, c := range selfCancelling(r) {
				bad(c.field, "%s phrase %q stems like %q and would cancel it everywhere; write the longer phrase it should exclude", c.field, c.not, c.term)
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, aliases
}

// checkPhrases reports phrases with no words in them (punctuation only, empty strings).
func checkPhrases(list []string, bad func(string, ...any), field string) {
	for _, p := range list {
		if len(tokenize(p)) == 0 {
			bad("%s has a phrase with no words: %q", field, p)
		}
	}
}

var allowed = map[string]string{
	"":            "rule, alias",
	"alias":       "names",
	"rule":        "id, description, action, window, resume, news, posts, places",
	"rule.places": "within_km, level",
	"rule.news":   "any, all, with, not, unless, min_sources",
	"rule.posts":  "topics, any, shared, not, unless",
	"case":        "name, news, post, topics, expect, lang, reason",
}

func allowedKeys(key string) string {
	parent := ""
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		parent = key[:i]
	}
	if a, ok := allowed[parent]; ok {
		return a
	}
	return "see docs/rules.md"
}

type cancel struct{ field, not, term string }

// selfCancelling finds `not` phrases that stem exactly like a phrase they should only
// qualify ("training" stems like "train"): such a rule could never match that phrase.
func selfCancelling(r *Rule) []cancel {
	var out []cancel
	check := func(field string, nots []string, terms ...[]string) {
		for _, n := range nots {
			nt := tokenize(n)
			found := false
			for _, list := range terms {
				if found {
					break
				}
				for _, t := range list {
					tt := tokenize(t)
					if found || len(tt) != len(nt) {
						continue
					}
					for l := lang(0); l < numLangs; l++ {
						same := true
						for i := range tt {
							if stemToken(l, tt[i].Lower) != stemToken(l, nt[i].Lower) {
								same = false
								break
							}
						}
						if same {
							out = append(out, cancel{field, n, t})
							found = true
							break
						}
					}
				}
			}
		}
	}
	check("news.not", r.News.Not, r.News.Any, r.News.All, r.News.With)
	check("posts.not", r.Posts.Not, r.Posts.Any)
	return out
}

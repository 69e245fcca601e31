package rules

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// typeErrRe reads BurntSushi's type errors: "toml: line 5 (last key "k"): message".
var typeErrRe = regexp.MustCompile(`^toml: line (\d+)(?: \(last key "([^"]*)"\))?: (.*)$`)

// tomlErrLine digs the line out of a BurntSushi error.
func tomlErrLine(err error) int {
	var pe toml.ParseError
	if errors.As(err, &pe) && pe.Position.Line > 0 {
		return pe.Position.Line
	}
	if m := typeErrRe.FindStringSubmatch(err.Error()); m != nil {
		if n, cerr := strconv.Atoi(m[1]); cerr == nil && n > 0 {
			return n
		}
	}
	return 1
}

func tomlErrMsg(err error) string {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" {
			msg = fmt.Sprintf("at key %q: %s", pe.LastKey, msg)
		}
		return msg
	}
	if m := typeErrRe.FindStringSubmatch(err.Error()); m != nil {
		msg := m[3]
		last := m[2]
		if i := strings.LastIndexByte(last, '.'); i >= 0 {
			last = last[i+1:]
		}
		switch {
		case (last == "rule" || last == "case" || last == "alias") && strings.Contains(msg, "map"):
			msg += fmt.Sprintf(" (each one is a [[%s]] table, with double brackets)", last)
		case last == "window":
			msg += ` (a duration is a string, such as window = "72h")`
		case strings.Contains(msg, "destination has type slice"):
			msg += ` (a list is written ["a", "b"])`
		}
		if m[2] != "" {
			return fmt.Sprintf("at key %q: %s", m[2], msg)
		}
		return msg
	}
	return err.Error()
}

// keyLines records where keys are written, since BurntSushi's MetaData does not say.
type keyLines struct {
	entries []keyEntry
}

type keyEntry struct {
	table string // array-table name the key is under ("rule", "case"), "" at top level
	index int    // which element of that array table, -1 if none
	path  string // full dotted path without indices: "rule.news.any"
	key   string // path relative to the array table element: "news.any"; "" for the header
	line  int
}

var (
	headerRe = regexp.MustCompile(`^\s*(\[\[?)\s*([A-Za-z0-9_.\-" ]+?)\s*\]\]?\s*(#.*)?$`)
	keyRe    = regexp.MustCompile(`^\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=`)
)

// scanKeys walks the file line by line, following table headers, and records every key
// assignment and array-table header with its line. It skips the insides of multi-line
// arrays and strings well enough for rule files; a key it cannot place falls back to the
// rule's header line.
func scanKeys(data []byte) keyLines {
	var kl keyLines
	table, arrayTable, index := "", "", -1
	counts := map[string]int{}
	depth := 0
	inMulti := "" // `"""` or `'''` while inside a multi-line string
	for n, raw := range strings.Split(string(data), "\n") {
		line := n + 1
		if inMulti != "" {
			if strings.Count(raw, inMulti)%2 == 1 {
				inMulti = ""
			}
			continue
		}
		if depth > 0 {
			depth += bracketDelta(raw)
			continue
		}
		if m := headerRe.FindStringSubmatch(raw); m != nil && depth == 0 {
			name := strings.ReplaceAll(strings.ReplaceAll(m[2], " ", ""), `"`, "")
			if m[1] == "[[" {
				arrayTable = name
				index = counts[name]
				counts[name]++
				table = name
				kl.entries = append(kl.entries, keyEntry{table: arrayTable, index: index, path: name, line: line})
			} else {
				table = name
				if arrayTable != "" && !strings.HasPrefix(name, arrayTable+".") {
					arrayTable, index = "", -1
				}
				kl.entries = append(kl.entries, keyEntry{table: arrayTable, index: index, path: name, key: strings.TrimPrefix(strings.TrimPrefix(name, arrayTable), "."), line: line})
			}
			continue
		}
		if m := keyRe.FindStringSubmatch(raw); m != nil {
			key := strings.ReplaceAll(m[1], " ", "")
			path := key
			if table != "" {
				path = table + "." + key
			}
			rel := path
			if arrayTable != "" {
				rel = strings.TrimPrefix(strings.TrimPrefix(path, arrayTable), ".")
			}
			kl.entries = append(kl.entries, keyEntry{table: arrayTable, index: index, path: path, key: rel, line: line})
			rest := raw[len(m[0]):]
			for _, q := range []string{`"""`, `'''`} {
				if strings.Count(rest, q)%2 == 1 {
					inMulti = q
				}
			}
			depth += bracketDelta(rest)
		}
	}
	return kl
}

// bracketDelta counts [ minus ] outside strings and comments on one line.
func bracketDelta(s string) int {
	d := 0
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case quote != 0:
			if escaped {
				escaped = false
			} else if r == '\\' && quote == '"' {
				escaped = true
			} else if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#':
			return d
		case r == '[':
			d++
		case r == ']':
			d--
		}
	}
	return d
}

// find returns the lines where a full dotted path is assigned or opened.
func (kl keyLines) find(path string) []int {
	var out []int
	for _, e := range kl.entries {
		if e.path == path {
			out = append(out, e.line)
		}
	}
	return out
}

// line returns the line of key inside element index of array table ("rule", 3, "news.any").
// Key "" is the element's header. When the key is not written out (a default, or inline),
// a parent key's line or the header's line is returned.
func (kl keyLines) line(table string, index int, key string) int {
	header := 1
	best := 0
	for _, e := range kl.entries {
		if e.table != table || e.index != index {
			continue
		}
		if e.key == "" {
			header = e.line
		}
		if key != "" && e.key == key {
			return e.line
		}
		if key != "" && best == 0 && e.key != "" && strings.HasPrefix(key, e.key+".") {
			best = e.line
		}
	}
	if best != 0 {
		return best
	}
	return header
}

// reportUnknown turns every key the decoder did not use into an error on its line: a
// misspelt key must never be silently ignored.
func reportUnknown(name string, md toml.MetaData, lines keyLines, errs *Errors) {
	// The decoder matches keys to fields ignoring case; rule files are written in lower
	// case, so [[Rule]] or Action = … would otherwise pass unnoticed.
	for _, k := range md.Keys() {
		if last := k[len(k)-1]; last != strings.ToLower(last) {
			path := k.String()
			found := lines.find(path)
			if len(found) == 0 {
				found = []int{1}
			}
			errs.add(name, found[0], "key %q must be written in lower case (%q)", last, strings.ToLower(last))
		}
	}
	seen := map[string]bool{}
	for _, k := range md.Undecoded() {
		path := k.String()
		if seen[path] {
			continue
		}
		seen[path] = true
		// Report a misspelt table once, not again for each key inside it.
		if parent := k[:len(k)-1]; len(parent) > 0 && seen[parent.String()] {
			continue
		}
		found := lines.find(path)
		if len(found) == 0 {
			found = []int{1}
		}
		for _, ln := range found {
			errs.add(name, ln, "unknown key %q; allowed here: %s", path, allowedKeys(path))
		}
	}
}

package config

import (
	"strconv"
	"strings"
)

// locator finds the line of a key in a TOML source, so that errors found after decoding
// (unknown keys, bad values) can say FILE:LINE. BurntSushi/toml keeps key positions
// private, so this re-reads the text: table headers and "key =" lines are enough for the
// flat shape of tact.toml.
type locator struct {
	// lines maps "table#index.key" (index counts [[array]] tables from 0) to a line number.
	lines map[string]int
	// headers maps "table#index" to the header's line.
	headers map[string]int
	// src is the file's lines, for the last resort of finding a key by its spelling.
	src []string
}

func newLocator(src []byte) *locator {
	l := &locator{lines: map[string]int{}, headers: map[string]int{}, src: strings.Split(string(src), "\n")}
	counts := map[string]int{}
	table := ""
	for i, raw := range strings.Split(string(src), "\n") {
		line := strings.TrimSpace(raw)
		n := i + 1
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "[["):
			name := keyPath(strings.Trim(stripComment(line), "[]"))
			idx := counts[name]
			counts[name]++
			table = name + "#" + strconv.Itoa(idx)
			l.headers[table] = n
		case strings.HasPrefix(line, "["):
			name := keyPath(strings.Trim(stripComment(line), "[]"))
			// A sub-table of an array table ([account.settings]) belongs to the latest element.
			if dot := strings.LastIndex(name, "."); dot > 0 {
				parent := name[:dot]
				if c, ok := counts[parent]; ok && c > 0 {
					name = parent + "#" + strconv.Itoa(c-1) + "." + name[dot+1:]
				}
			}
			table = name
			l.headers[table] = n
		default:
			eq := strings.Index(line, "=")
			if eq <= 0 {
				continue
			}
			key := keyPath(line[:eq])
			full := key
			if table != "" {
				full = table + "." + key
			}
			if _, seen := l.lines[full]; !seen {
				l.lines[full] = n
			}
		}
	}
	return l
}

// line returns the line of key inside table (index -1 for a plain table), or the table's
// header line when the key is not written, or 0.
func (l *locator) line(table string, index int, key string) int {
	table, key = strings.ToLower(table), strings.ToLower(key)
	t := table
	if index >= 0 {
		t = table + "#" + strconv.Itoa(index)
	}
	full := key
	if t != "" {
		full = t + "." + key
	}
	if n, ok := l.lines[full]; ok {
		return n
	}
	return l.headers[t]
}

// undecoded returns the line of an unknown key reported by the decoder as a path such as
// ["daemon", "listen_addr"] or ["feed", "evry"] (array tables lose their index, so the first
// element that writes the key is the one at fault).
func (l *locator) undecoded(path []string) int {
	// The decoder matches keys to fields ignoring case ([[Account]] fills [[account]]), so
	// the locator compares them in lower case.
	lower := make([]string, len(path))
	for i, p := range path {
		lower[i] = strings.ToLower(p)
	}
	path = lower
	key := path[len(path)-1]
	table := strings.Join(path[:len(path)-1], ".")
	if n := l.line(table, -1, key); n > 0 {
		return n
	}
	for i := 0; i < 10000; i++ {
		if _, ok := l.headers[table+"#"+strconv.Itoa(i)]; !ok {
			break
		}
		if n, ok := l.lines[table+"#"+strconv.Itoa(i)+"."+key]; ok {
			return n
		}
	}
	// Dotted keys (a.b = 1), inline tables and unknown tables: point at the longest part of
	// the path that is written somewhere, as a key or a table header, in any element of
	// an array table.
	for k := len(path); k >= 1; k-- {
		if n := l.find(path[:k]); n > 0 {
			return n
		}
	}
	// Written in a way the scan above does not read (escapes in a quoted key): the first
	// line that spells the key out.
	for i, line := range l.src {
		if strings.Contains(strings.ToLower(line), key) {
			return i + 1
		}
	}
	return 0
}

// find returns the line where path is written as a key or a table header, trying every
// split of it into a table (maybe an array table element) and a dotted key.
func (l *locator) find(path []string) int {
	whole := strings.Join(path, ".")
	if n, ok := l.headers[whole]; ok {
		return n
	}
	if n, ok := l.lines[whole]; ok {
		return n
	}
	for split := len(path) - 1; split >= 1; split-- {
		table, rest := strings.Join(path[:split], "."), strings.Join(path[split:], ".")
		if n, ok := l.lines[table+"."+rest]; ok {
			return n
		}
		for i := 0; i < 10000; i++ {
			elem := table + "#" + strconv.Itoa(i)
			if _, ok := l.headers[elem]; !ok {
				break
			}
			if n, ok := l.lines[elem+"."+rest]; ok {
				return n
			}
			if n, ok := l.headers[elem+"."+rest]; ok {
				return n
			}
		}
	}
	if n, ok := l.headers[whole+"#0"]; ok {
		return n
	}
	return 0
}

// keyPath normalises a written key or table name as the decoder reports it: the parts
// between dots without the spaces and quotes around them, in lower case
// ([ Account . "settings" ] is account.settings).
func keyPath(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if len(p) >= 2 && (p[0] == '"' && p[len(p)-1] == '"' || p[0] == '\'' && p[len(p)-1] == '\'') {
			p = p[1 : len(p)-1]
		}
		parts[i] = strings.ToLower(p)
	}
	return strings.Join(parts, ".")
}

func stripComment(s string) string {
	if i := strings.Index(s, "#"); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

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
}

func newLocator(src []byte) *locator {
	l := &locator{lines: map[string]int{}, headers: map[string]int{}}
	counts := map[string]int{}
	table := ""
	for i, raw := range strings.Split(string(src), "\n") {
		line := strings.TrimSpace(raw)
		n := i + 1
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "[["):
			name := strings.TrimSpace(strings.Trim(stripComment(line), "[]"))
			idx := counts[name]
			counts[name]++
			table = name + "#" + strconv.Itoa(idx)
			l.headers[table] = n
		case strings.HasPrefix(line, "["):
			name := strings.TrimSpace(strings.Trim(stripComment(line), "[]"))
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
			key := strings.Trim(strings.TrimSpace(line[:eq]), `"'`)
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
	// An unknown table: point at its header.
	return l.headers[strings.Join(path, ".")]
}

func stripComment(s string) string {
	if i := strings.Index(s, "#"); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

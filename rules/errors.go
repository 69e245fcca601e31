package rules

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a rule or test file.
type Error struct {
	File string `json:"file"`
	Line int    `json:"line"` // 0 when the problem is not on one line (a glob matching nothing)
	Msg  string `json:"message"`
}

func (e Error) String() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors lists every problem found; Parse and LoadFiles return it so that an admin fixes
// all of them in one pass.
type Errors struct {
	List []Error
}

func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, x := range e.List {
		lines[i] = x.String()
	}
	return strings.Join(lines, "\n")
}

func (e *Errors) add(file string, line int, format string, args ...any) {
	e.List = append(e.List, Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (e *Errors) err() error {
	if len(e.List) == 0 {
		return nil
	}
	sort.SliceStable(e.List, func(i, j int) bool {
		if e.List[i].File != e.List[j].File {
			return e.List[i].File < e.List[j].File
		}
		return e.List[i].Line < e.List[j].Line
	})
	return e
}

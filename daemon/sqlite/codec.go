package sqlite

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// unixNano stores t as UTC nanoseconds; the zero time is stored as 0 ("not set").
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UTC().UnixNano()
}

// fromNano is the inverse of unixNano.
func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// jsonList stores a list as a JSON array; nil is stored as [].
func jsonList[T any](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("tact: cannot encode %T: %v", v, err)) // strings and plain structs always encode
	}
	return string(b)
}

// parseList reads a JSON array column; an empty array reads as nil.
func parseList[T any](s string) ([]T, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var v []T
	if ps, ok := any(&v).(*[]string); ok {
		if ss, ok := plainStrings(s); ok {
			*ps = ss
			return v, nil
		}
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("damaged list column %q: %w", s, err)
	}
	return v, nil
}

// plainStrings reads a JSON array of strings as jsonList writes it when no string needs an
// escape or is outside ASCII (["a","b"]), which is most stored lists (accounts, topics),
// without encoding/json: decoding them was a tenth of the cost of listing a page of posts.
// Anything else reports false and is left to json.Unmarshal.
func plainStrings(s string) ([]string, bool) {
	if len(s) < 4 || s[0] != '[' || s[1] != '"' || s[len(s)-2] != '"' || s[len(s)-1] != ']' {
		return nil, false
	}
	inner := s[2 : len(s)-2]
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, false
		}
	}
	out := strings.Split(inner, `","`)
	for _, e := range out {
		if strings.IndexByte(e, '"') >= 0 {
			return nil, false // not a plain list of strings: [ "a" ], ["a"],["b"]...
		}
	}
	return out, true
}

func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("tact: cannot encode %T: %v", v, err))
	}
	return string(b)
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// stateArgs returns the states as query arguments.
func stateArgs(ss []queue.PostState) []any {
	args := make([]any, len(ss))
	for i, s := range ss {
		args[i] = string(s)
	}
	return args
}

func postObject(id int64) string        { return fmt.Sprintf("post:%d", id) }
func campaignObject(name string) string { return "campaign:" + name }

package queue

import (
	"encoding/json"
	"time"
)

// Duration is a time.Duration that reads and writes as a Go duration string ("90s", "48h")
// in JSON, as people write them in the CLI and config.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64 // also accept nanoseconds, as encoding/json would produce for time.Duration
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return Errorf(Invalid, "", "duration must be a string such as \"90s\" or \"48h\"")
		}
		*d = Duration(n)
		return nil
	}
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return Errorf(Invalid, "", "bad duration %q: use Go durations such as \"90s\" or \"48h\"", s)
	}
	*d = Duration(v)
	return nil
}

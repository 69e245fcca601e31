// Package cron owns recurring schedules: it is the one place a campaign's cron spec
// (robfig/cron v3, five fields or a descriptor, CRON_TZ honoured) is parsed, validated and
// stepped, so that the store, the API and the scheduler accept the same specs with the same
// messages and compute the same ticks. It depends on nothing of the daemon's; queue turns its
// *Error into an Invalid domain error (queue.CheckSchedule). The spec format, the zones and
// what is refused are in docs/campaigns.md, "The schedule".
//
// Time zones and daylight saving time. A spec's own CRON_TZ wins; otherwise the campaign's
// time zone applies, otherwise the daemon's default. Schedules that name specific hours
// ("30 2 * * *", "0 9 * * MON") are stepped on the wall clock of that zone:
//
//   - on the spring-forward day a time that does not exist (02:30 in Europe/Paris) fires
//     once, at the moment the clocks jump (03:00 local). cron/v3 on its own skips that day.
//   - on the fall-back day a time that happens twice (02:30 in Europe/Paris, 01:30 in
//     America/New_York) fires once, at its first occurrence. cron/v3 on its own fires twice.
//
// Schedules whose hour field is "*" (hourly or more often) follow real elapsed time, as
// cron/v3 does: they keep firing through the repeated hour, and the skipped hour yields
// nothing, so "every hour" stays every hour. "@every D" descriptors are fixed intervals.
package cron

import (
	"fmt"
	"strings"
	"time"

	robfig "github.com/robfig/cron/v3"
)

// MinInterval is the shortest interval a schedule may have: recurring posts go through
// people, and a network sees at most one post a minute per account anyway.
const MinInterval = time.Minute

var parser = robfig.NewParser(robfig.Minute | robfig.Hour | robfig.Dom | robfig.Month | robfig.Dow | robfig.Descriptor)

// Schedule is a parsed recurring schedule bound to its time zone.
type Schedule struct {
	spec string
	loc  *time.Location
	// real steps in absolute time (cron/v3 in loc): "@every", and hour fields of "*".
	real robfig.Schedule
	// wall, when set, is the same spec located in UTC, used to step the wall clock of loc.
	wall *robfig.SpecSchedule
}

// Parse parses spec. tz is the zone used when spec has no CRON_TZ= (or TZ=) prefix; "" means
// UTC. Errors are *Error, on the field "schedule" or "timezone", saying what to write.
func Parse(spec, tz string) (*Schedule, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, errorf("schedule", "the schedule is empty: give a cron spec such as \"0 9 * * MON-FRI\" or \"@daily\"")
	}
	zone := tz
	field := "timezone"
	for _, prefix := range []string{"CRON_TZ=", "TZ="} {
		if !strings.HasPrefix(s, prefix) {
			continue
		}
		rest := s[len(prefix):]
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			return nil, errorf("schedule", "schedule %q names a time zone but no times: write %s<zone> followed by five fields, e.g. \"%sEurope/Paris 0 9 * * *\"", spec, prefix, prefix)
		}
		zone, s, field = rest[:i], strings.TrimSpace(rest[i:]), "schedule"
		break
	}
	loc, err := loadZone(zone)
	if err != nil {
		return nil, errorf(field, "unknown time zone %q: use an IANA name such as \"Europe/Paris\" or \"America/New_York\"", zone)
	}
	sched, err := parser.Parse(s)
	if err != nil {
		return nil, errorf("schedule", "bad cron spec %q: %v; write five fields (minute hour day-of-month month day-of-week), e.g. \"30 9 * * MON-FRI\", or a descriptor such as \"@daily\" or \"@every 6h\"", spec, err)
	}
	out := &Schedule{spec: spec, loc: loc}
	switch c := sched.(type) {
	case *robfig.SpecSchedule:
		c.Location = loc
		out.real = c
		if c.Hour&allHours != allHours {
			w := *c
			w.Location = time.UTC
			out.wall = &w
		}
	case robfig.ConstantDelaySchedule:
		if c.Delay < MinInterval {
			return nil, errorf("schedule", "schedule %q fires every %s: the shortest interval is %s", spec, c.Delay, MinInterval)
		}
		out.real = c
	default:
		return nil, fmt.Errorf("schedule %q: unexpected schedule type %T", spec, sched)
	}
	return out, nil
}

const allHours = 1<<24 - 1

// loadZone loads an IANA zone, "" meaning UTC. "Local" is refused: it is the host's zone,
// which changes with the machine tact runs on.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("the host's zone")
	}
	return time.LoadLocation(name)
}

// Error is a spec or zone the daemon refuses. Field is "schedule" or "timezone"; Message
// says what is wrong and what to write instead. queue.CheckSchedule makes it an Invalid
// domain error on that field.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(field, format string, args ...any) error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// fireCheckFrom is where Validate looks for a first tick. cron specs name no years, so a
// spec that can fire at all fires within five years of any instant (February 29th within
// four): a fixed instant makes validity independent of the clock.
var fireCheckFrom = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Validate reports whether spec, with tz as the zone when the spec names none, is a schedule
// the daemon accepts: it parses, its zone exists, it fires no more often than MinInterval
// (for "@every") and it fires at all. Errors are *Error.
func Validate(spec, tz string) error {
	s, err := Parse(spec, tz)
	if err != nil {
		return err
	}
	if s.Next(fireCheckFrom).IsZero() {
		return errorf("schedule", "schedule %q never fires (no such date in any year): check the day and month fields", spec)
	}
	return nil
}

// ValidateZone reports whether tz is a time zone name the daemon accepts ("" = default).
func ValidateZone(tz string) error {
	if _, err := loadZone(tz); err != nil {
		return errorf("timezone", "unknown time zone %q: use an IANA name such as \"Europe/Paris\" or \"America/New_York\"", tz)
	}
	return nil
}

// Next parses spec (tz as in Parse) and returns its first tick strictly after after.
func Next(spec, tz string, after time.Time) (time.Time, error) {
	s, err := Parse(spec, tz)
	if err != nil {
		return time.Time{}, err
	}
	t := s.Next(after)
	if t.IsZero() {
		return t, errorf("schedule", "schedule %q never fires after %s", spec, after.Format(time.RFC3339))
	}
	return t, nil
}

// Location is the zone the schedule's times are read in.
func (s *Schedule) Location() *time.Location { return s.loc }

// String returns the spec as written.
func (s *Schedule) String() string { return s.spec }

// Next returns the first tick strictly after after, in UTC, or the zero time if there is
// none within five years.
func (s *Schedule) Next(after time.Time) time.Time {
	if s.wall == nil {
		t := s.real.Next(after)
		if t.IsZero() {
			return t
		}
		return t.UTC()
	}
	// Step the wall clock, then map each wall time to the instant it names: the first
	// occurrence of a repeated time, the jump itself for a skipped one. Several wall times
	// can map to one instant (two times inside a skipped hour): only later instants count.
	w := wallClock(after, s.loc)
	for range maxSteps {
		w = s.wall.Next(w)
		if w.IsZero() {
			return w
		}
		if t := instant(w, s.loc); t.After(after) {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Upcoming returns the schedule's next n ticks strictly after after, in UTC; fewer if the
// schedule ends (a date that exists only in some years still yields its next ones). The web
// UI previews a campaign's next runs with it.
func (s *Schedule) Upcoming(after time.Time, n int) []time.Time {
	var out []time.Time
	for t := after; len(out) < n; {
		if t = s.Next(t); t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// IsTick reports whether t is one of the schedule's ticks. Every time is, for "@every".
func (s *Schedule) IsTick(t time.Time) bool {
	if _, ok := s.real.(robfig.ConstantDelaySchedule); ok {
		return true
	}
	return t.Equal(t.Truncate(time.Second)) && s.Next(t.Add(-time.Second)).Equal(t)
}

// maxSteps bounds the wall-clock walk: a skipped or repeated interval is at most a few
// hours of minutes, so this is never reached by a real zone.
const maxSteps = 10000

// wallClock returns t's wall-clock reading in loc, as a UTC time with the same fields.
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

// instant returns the instant at which loc's wall clock shows w (a UTC time carrying the
// wall-clock fields): the earliest such instant when the time happens twice, and the moment
// of the jump when it does not happen at all.
func instant(w time.Time, loc *time.Location) time.Time {
	wall := w.Unix()
	// The offsets that can apply: transitions are months apart, so those a day either side
	// of the wall time (read as an instant) cover it.
	var offsets []int
	for _, probe := range []int64{wall - 86400, wall, wall + 86400} {
		_, off := time.Unix(probe, 0).In(loc).Zone()
		if !containsInt(offsets, off) {
			offsets = append(offsets, off)
		}
	}
	var best time.Time
	for _, off := range offsets {
		t := time.Unix(wall-int64(off), 0).In(loc)
		if _, o := t.Zone(); o != off {
			continue
		}
		if best.IsZero() || t.Before(best) {
			best = t
		}
	}
	if !best.IsZero() {
		return best
	}
	// Skipped: read with the largest offset, the wall time is an instant just before the
	// jump, still in the old zone; the jump is where that zone ends.
	maxOff := offsets[0]
	for _, off := range offsets {
		maxOff = max(maxOff, off)
	}
	_, end := time.Unix(wall-int64(maxOff), 0).In(loc).ZoneBounds()
	return end
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

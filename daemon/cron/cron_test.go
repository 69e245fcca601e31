package cron

import (
	"errors"
	"strings"
	"testing"
	"time"

	robfig "github.com/robfig/cron/v3"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// ticks returns the n ticks after start, formatted in the schedule's zone.
func ticks(t *testing.T, spec, tz string, start time.Time, n int) []string {
	t.Helper()
	s, err := Parse(spec, tz)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	at := start
	for range n {
		at = s.Next(at)
		if at.IsZero() {
			t.Fatalf("%q: no tick after %v", spec, out)
		}
		if at.Location() != time.UTC {
			t.Fatalf("tick %v is not in UTC", at)
		}
		out = append(out, at.In(s.Location()).Format("2006-01-02 15:04 MST"))
	}
	return out
}

func assertTicks(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("ticks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDailyParisAcrossSpringForward(t *testing.T) {
	paris := mustZone(t, "Europe/Paris")
	// 2026-03-29: at 02:00 CET the clocks jump to 03:00 CEST; 02:30 does not exist.
	start := time.Date(2026, 3, 27, 12, 0, 0, 0, paris)
	got := ticks(t, "30 2 * * *", "Europe/Paris", start, 4)
	assertTicks(t, got,
		"2026-03-28 02:30 CET",
		"2026-03-29 03:00 CEST", // the jump: fires once, not skipped
		"2026-03-30 02:30 CEST",
		"2026-03-31 02:30 CEST")

	// Plain cron/v3 skips the day altogether: that is what the wall-clock walk fixes.
	raw, _ := robfig.ParseStandard("CRON_TZ=Europe/Paris 30 2 * * *")
	n := raw.Next(time.Date(2026, 3, 28, 12, 0, 0, 0, paris))
	if got := n.In(paris).Format("2006-01-02 15:04"); got != "2026-03-30 02:30" {
		t.Fatalf("cron/v3 itself now gives %s for the spring-forward day: revisit the package doc", got)
	}
}

func TestFallBackRepeatedTimeFiresOnce(t *testing.T) {
	// 2026-10-25 in Paris: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice.
	got := ticks(t, "30 2 * * *", "Europe/Paris", time.Date(2026, 10, 24, 12, 0, 0, 0, time.UTC), 3)
	assertTicks(t, got,
		"2026-10-25 02:30 CEST", // the first occurrence only
		"2026-10-26 02:30 CET",
		"2026-10-27 02:30 CET")
	// 01:30 in Paris happens once on that day: nothing special.
	got = ticks(t, "30 1 * * *", "Europe/Paris", time.Date(2026, 10, 24, 12, 0, 0, 0, time.UTC), 2)
	assertTicks(t, got, "2026-10-25 01:30 CEST", "2026-10-26 01:30 CET")
	// 2026-11-01 in New York: 02:00 EDT becomes 01:00 EST, so 01:30 happens twice.
	got = ticks(t, "30 1 * * *", "America/New_York", time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC), 3)
	assertTicks(t, got,
		"2026-11-01 01:30 EDT",
		"2026-11-02 01:30 EST",
		"2026-11-03 01:30 EST")

	// Plain cron/v3 fires twice in the repeated hour: that is the double post avoided above.
	paris := mustZone(t, "Europe/Paris")
	raw, _ := robfig.ParseStandard("CRON_TZ=Europe/Paris 30 2 * * *")
	first := raw.Next(time.Date(2026, 10, 24, 12, 0, 0, 0, paris))
	second := raw.Next(first)
	if second.Sub(first) != time.Hour {
		t.Fatalf("cron/v3 itself now gives %v then %v on the fall-back day: revisit the package doc", first, second)
	}
}

func TestWeeklyNewYorkAcrossDST(t *testing.T) {
	// Mondays 09:00 in New York, across the spring-forward Sunday 2026-03-08 and the
	// fall-back Sunday 2026-11-01: always 09:00 local, so 7 days minus or plus one hour apart.
	got := ticks(t, "0 9 * * MON", "America/New_York", time.Date(2026, 2, 25, 0, 0, 0, 0, time.UTC), 3)
	assertTicks(t, got, "2026-03-02 09:00 EST", "2026-03-09 09:00 EDT", "2026-03-16 09:00 EDT")
	got = ticks(t, "0 9 * * MON", "America/New_York", time.Date(2026, 10, 21, 0, 0, 0, 0, time.UTC), 3)
	assertTicks(t, got, "2026-10-26 09:00 EDT", "2026-11-02 09:00 EST", "2026-11-09 09:00 EST")
	s, _ := Parse("0 9 * * MON", "America/New_York")
	a := s.Next(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC))
	if d := s.Next(a).Sub(a); d != 7*24*time.Hour {
		t.Fatalf("two Mondays after the change are %v apart", d)
	}
}

func TestHourlyFollowsRealTimeAcrossDST(t *testing.T) {
	// "every hour at :00" stays every hour in real time: through the repeated hour twice,
	// and nothing for the skipped hour.
	got := ticks(t, "0 * * * *", "Europe/Paris", time.Date(2026, 10, 24, 22, 30, 0, 0, time.UTC), 4)
	assertTicks(t, got, "2026-10-25 01:00 CEST", "2026-10-25 02:00 CEST", "2026-10-25 02:00 CET", "2026-10-25 03:00 CET")
	got = ticks(t, "0 * * * *", "Europe/Paris", time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), 3)
	assertTicks(t, got, "2026-03-29 01:00 CET", "2026-03-29 03:00 CEST", "2026-03-29 04:00 CEST")
}

func TestTwoTimesInsideTheSkippedHourFireOnce(t *testing.T) {
	got := ticks(t, "15,45 2 * * *", "Europe/Paris", time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), 3)
	assertTicks(t, got, "2026-03-29 03:00 CEST", "2026-03-30 02:15 CEST", "2026-03-30 02:45 CEST")
}

func TestZones(t *testing.T) {
	after := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	// No CRON_TZ: the zone given (the campaign's, or the daemon default).
	// 09:00 JST on June 1st is 00:00 UTC, not after "after": the next one is June 2nd.
	n, err := Next("0 9 * * *", "Asia/Tokyo", after)
	if err != nil || !n.Equal(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("Tokyo: %v %v", n, err)
	}
	// CRON_TZ wins over the zone given.
	n, err = Next("CRON_TZ=America/New_York 0 9 * * *", "Asia/Tokyo", after)
	if err != nil || !n.Equal(time.Date(2026, 6, 1, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("CRON_TZ: %v %v", n, err)
	}
	// No zone at all: UTC.
	n, err = Next("@daily", "", after)
	if err != nil || !n.Equal(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("@daily UTC: %v %v", n, err)
	}
	n, err = Next("@every 6h", "Europe/Paris", after)
	if err != nil || !n.Equal(after.Add(6*time.Hour)) {
		t.Fatalf("@every: %v %v", n, err)
	}
}

func TestValidateRefusesClearly(t *testing.T) {
	for _, c := range []struct{ spec, tz, field, says string }{
		{"", "", "schedule", "empty"},
		{"61 * * * *", "", "schedule", "bad cron spec \"61 * * * *\""},
		{"0 9 * *", "", "schedule", "five fields"},
		{"0 9 * * *", "Mars/Olympus", "timezone", "unknown time zone \"Mars/Olympus\""},
		{"0 9 * * *", "Local", "timezone", "unknown time zone"},
		{"CRON_TZ=Nowhere/City 0 9 * * *", "", "schedule", "unknown time zone \"Nowhere/City\""},
		{"CRON_TZ=Europe/Paris", "", "schedule", "names a time zone but no times"},
		{"@every 10s", "", "schedule", "shortest interval is 1m0s"},
		{"0 0 30 2 *", "", "schedule", "never fires"},
		{"@fortnightly", "", "schedule", "bad cron spec"},
	} {
		err := Validate(c.spec, c.tz)
		if err == nil {
			t.Errorf("Validate(%q, %q) accepted it", c.spec, c.tz)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Field != c.field || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Validate(%q, %q) = %v (%T); want an *Error on %s saying %q", c.spec, c.tz, err, err, c.field, c.says)
		}
	}
	for _, ok := range []struct{ spec, tz string }{
		{"0 9 * * MON-FRI", "Europe/Paris"}, {"TZ=UTC 0 9 * * *", ""}, {"@weekly", "America/New_York"}, {"*/5 * * * *", ""},
	} {
		if err := Validate(ok.spec, ok.tz); err != nil {
			t.Errorf("Validate(%q, %q) = %v", ok.spec, ok.tz, err)
		}
	}
	if err := ValidateZone("Europe/Nowhere"); err == nil || err.(*Error).Field != "timezone" {
		t.Errorf("ValidateZone: %v", err)
	}
}

func TestUpcomingPreviewsTheNextRuns(t *testing.T) {
	s, err := Parse("0 9 * * MON-FRI", "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, at := range s.Upcoming(time.Date(2026, 3, 26, 12, 0, 0, 0, time.UTC), 5) {
		got = append(got, at.In(s.Location()).Format("Mon 2006-01-02 15:04 MST"))
	}
	// Thursday noon: Friday, then the week after the spring-forward weekend.
	assertTicks(t, got, "Fri 2026-03-27 09:00 CET", "Mon 2026-03-30 09:00 CEST", "Tue 2026-03-31 09:00 CEST",
		"Wed 2026-04-01 09:00 CEST", "Thu 2026-04-02 09:00 CEST")
	if n := len(s.Upcoming(time.Now(), 0)); n != 0 {
		t.Errorf("Upcoming(0) gave %d ticks", n)
	}
}

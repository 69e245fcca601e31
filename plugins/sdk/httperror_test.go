package sdk

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHTTPError(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		status int
		header http.Header
		kind   ErrorKind
		after  time.Duration
	}{
		{401, nil, Auth, 0},
		{403, nil, Auth, 0},
		{429, http.Header{"Retry-After": {"120"}}, RateLimited, 2 * time.Minute},
		{429, http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, RateLimited, 90 * time.Second},
		{429, nil, RateLimited, 0},
		{408, nil, Retryable, 0},
		{500, nil, Retryable, 0},
		{503, nil, Retryable, 0},
		{422, nil, Permanent, 0},
		{404, nil, Permanent, 0},
	} {
		err := HTTPError(tc.status, tc.header, `{"error":"nope"}`, now)
		e, ok := err.(*Error)
		if !ok || e.Kind != tc.kind || e.RetryAfter != tc.after {
			t.Errorf("HTTPError(%d, %v) = %#v, want kind %s retry after %s", tc.status, tc.header, err, tc.kind, tc.after)
			continue
		}
		if !strings.Contains(e.Message, "nope") {
			t.Errorf("HTTPError(%d) message %q lacks the body", tc.status, e.Message)
		}
	}
	if err := HTTPError(204, nil, "", now); err != nil {
		t.Errorf("HTTPError(204) = %v, want nil", err)
	}
	if e := HTTPError(500, nil, strings.Repeat("é", 300), now).(*Error); len(e.Message) > 300 {
		t.Errorf("a long body was not shortened: %d bytes", len(e.Message))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":     0,
		"30":   30 * time.Second,
		"-5":   0,
		"soon": 0,
		now.Add(-time.Minute).Format(http.TimeFormat): 0,
	} {
		if got := RetryAfter(in, now); got != want {
			t.Errorf("RetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRateLimitWait(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":     time.Minute, // no Retry-After: the fallback
		"soon": time.Minute, // unreadable: the fallback
		"120":  2 * time.Minute,
		" 30 ": 30 * time.Second,
		"0":    time.Second, // asks for no wait: still a second
		"-5":   time.Second,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     time.Second,
	} {
		h := http.Header{}
		if in != "" {
			h.Set("Retry-After", in)
		}
		if got := RateLimitWait(h, now, time.Minute); got != want {
			t.Errorf("RateLimitWait(Retry-After %q) = %s, want %s", in, got, want)
		}
	}
}

func TestWaitUntil(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	if got := WaitUntil(now.Add(42*time.Second), now); got != 42*time.Second {
		t.Errorf("WaitUntil(now+42s) = %s, want 42s", got)
	}
	for _, reset := range []time.Time{now, now.Add(-time.Hour), now.Add(time.Millisecond)} {
		if got := WaitUntil(reset, now); got != time.Second {
			t.Errorf("WaitUntil(%s) = %s, want 1s", reset, got)
		}
	}
}

func TestExcerpt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"  short \n", 10, "short"},
		{"abcdef", 4, "abcd…"},
		{"ééé", 3, "é…"}, // never half a character
		{"", 5, ""},
	} {
		if got := Excerpt(tc.in, tc.max); got != tc.want {
			t.Errorf("Excerpt(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

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

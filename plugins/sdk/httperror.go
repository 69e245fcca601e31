package sdk

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// HTTPError types a failed HTTP response from a network's API, the way most networks
// mean their status codes: 401 and 403 are Auth (the account needs a person), 429 is
// RateLimited (honouring Retry-After), 408, 425 and 5xx are Retryable, any other 4xx is
// Permanent. body is included in the message, shortened; keep secrets out of it. now is
// used to read an HTTP-date Retry-After. A 2xx or 3xx status returns nil.
func HTTPError(status int, header http.Header, body string, now time.Time) error {
	if status < 400 {
		return nil
	}
	msg := http.StatusText(status)
	if msg == "" {
		msg = "status " + strconv.Itoa(status)
	}
	msg = strconv.Itoa(status) + " " + msg
	if b := Excerpt(body, 200); b != "" {
		msg += ": " + b
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &Error{Kind: Auth, Message: msg}
	case status == http.StatusTooManyRequests:
		return &Error{Kind: RateLimited, RetryAfter: RetryAfter(header.Get("Retry-After"), now), Message: msg}
	case status == http.StatusRequestTimeout || status == http.StatusTooEarly || status >= 500:
		return &Error{Kind: Retryable, Message: msg}
	default:
		return &Error{Kind: Permanent, Message: msg}
	}
}

// RetryAfter reads a Retry-After header value: delay seconds or an HTTP date. It returns
// 0 when the value is empty, unreadable or in the past.
func RetryAfter(value string, now time.Time) time.Duration {
	d, ok := parseRetryAfter(value, now)
	if !ok || d < 0 {
		return 0
	}
	return d
}

// RateLimitWait is how long to wait after a 429 (Too Many Requests) answer whose headers
// are h: what its Retry-After says (delay seconds or an HTTP date), or fallback when it
// has none or it cannot be read. A Retry-After of 0 or a date already past still waits a
// second: asking again at once would only be refused again. Read a network's own reset
// header first (see WaitUntil) when it sends one.
func RateLimitWait(h http.Header, now time.Time, fallback time.Duration) time.Duration {
	d, ok := parseRetryAfter(h.Get("Retry-After"), now)
	if !ok {
		return fallback
	}
	return atLeastSecond(d)
}

// WaitUntil is how long to wait for a rate limit that resets at reset, as a network's own
// header says it (X-RateLimit-Reset, RateLimit-Reset, …): reset-now, never less than a
// second, even when reset is already past.
func WaitUntil(reset, now time.Time) time.Duration {
	return atLeastSecond(reset.Sub(now))
}

// parseRetryAfter reads delay seconds or an HTTP date; ok is false for an empty or
// unreadable value. The duration may be zero or negative (a date in the past).
func parseRetryAfter(value string, now time.Time) (d time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(value); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return t.Sub(now), true
}

func atLeastSecond(d time.Duration) time.Duration {
	if d < time.Second {
		return time.Second
	}
	return d
}

// Excerpt is s for quoting in an error message, such as the body of an error answer:
// surrounding space trimmed, cut to at most max bytes at a character boundary, with "…"
// marking the cut.
func Excerpt(s string, max int) string {
	s = strings.TrimSpace(s)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

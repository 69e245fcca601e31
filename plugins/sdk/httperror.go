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
	if b := shorten(strings.TrimSpace(body), 200); b != "" {
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
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if secs, err := strconv.Atoi(value); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(value)
	if err != nil || !t.After(now) {
		return 0
	}
	return t.Sub(now)
}

func shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

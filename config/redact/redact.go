// Package redact turns URLs, and messages that contain them, into text that may be shown:
// in a log line, an error, an API answer, a web page, the audit log or a notification.
// URLs carry secrets in their userinfo (a password, a token as user name), their query
// (?key=…, ?token=…) and, for chat webhooks and other URLs handed over as secrets, their
// path (Slack's /services/T…/B…/TOKEN). docs/operations.md ("Secrets") says what is shown.
//
// Redaction parses the URL rather than looking for the exact string: Go's HTTP client
// prints a URL's password as "***" in its errors, so an error never holds the string that
// was configured. The package is pure (standard library only) so that the daemon, the
// configuration and plugins built against plugins/sdk can all use it.
package redact

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Mark stands in for every hidden part.
const Mark = "xxxxx"

// minPiece is the shortest part of a secret URL that Text also removes where it appears
// outside a URL (a receiver's answer that repeats its key). Shorter parts ("1", "en")
// would garble messages, and no real secret is that short.
const minPiece = 8

// URL returns raw as it may be shown: the user name and password, every query value and
// the fragment become Mark; the scheme, host, port and path stay. A value that does not
// parse as an absolute URL is shown as Mark alone, since nothing tells which part of it is
// secret.
func URL(raw string) string { return show(raw, false) }

// SecretURL is URL that also hides the path: for a URL that is a secret as a whole (a
// notify webhook, a URL read from env: or file:), only the scheme, host and port stay.
func SecretURL(raw string) string { return show(raw, true) }

func show(raw string, secret bool) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" {
		return Mark
	}
	return format(u, secret)
}

func format(u *url.URL, secret bool) string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteByte(':')
	if u.Opaque != "" {
		// mailto:someone, or a scheme-relative value without "//": no host to keep.
		b.WriteString(Mark)
		return b.String()
	}
	// As url.URL.String writes it: "http:/x" keeps its single slash, "file:///x" its three.
	if !(u.OmitHost && u.Host == "" && u.User == nil) && (u.Host != "" || u.Path != "" || u.User != nil) {
		b.WriteString("//")
	}
	if u.User != nil {
		b.WriteString(Mark)
		if _, ok := u.User.Password(); ok {
			b.WriteString(":" + Mark)
		}
		b.WriteByte('@')
	}
	b.WriteString(u.Host)
	switch p := u.EscapedPath(); {
	case !secret:
		b.WriteString(p)
	case p != "" && p != "/":
		b.WriteString("/" + Mark)
	default:
		b.WriteString(p)
	}
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
		b.WriteString(query(u.RawQuery))
	}
	if u.Fragment != "" {
		b.WriteString("#" + Mark)
	}
	return b.String()
}

// query keeps the keys of a raw query and hides the values; a part without "=" may be a
// bare token ("?s3cr3t"), so it is hidden whole.
func query(raw string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		switch k, v, ok := strings.Cut(p, "="); {
		case !ok && p != "":
			parts[i] = Mark
		case ok && v != "":
			parts[i] = k + "=" + Mark
		}
	}
	return strings.Join(parts, "&")
}

// inText finds URLs in running text: a scheme, "://", and everything up to white space, a
// quote or a backslash (a quote escaped in JSON). Trailing punctuation is taken off
// afterwards.
var inText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s"'<>\x60\\]+`)

// Text returns msg with every URL in it shown as URL would, and those on the host (and
// under the path) of one of secretURLs shown as SecretURL would. The parts of secretURLs
// (user name, password, query values, path segments and fragment; in their plain,
// percent-encoded and base64 forms) are also removed where they appear outside a URL.
func Text(msg string, secretURLs ...string) string {
	secrets := parseAll(secretURLs)
	msg = inText.ReplaceAllStringFunc(msg, func(m string) string {
		core := strings.TrimRight(m, ".,;:!?)]}")
		return showIn(core, secrets) + m[len(core):]
	})
	return scrub(msg, secrets)
}

// Error returns an error whose message is err's as Text shows it. The URL of a
// *url.Error (net/http's errors, url.Parse's) is hidden even when it does not parse: its
// message then says only Mark. The result unwraps to the cause the *url.Error wraps, so
// errors.Is(err, context.DeadlineExceeded) still holds, but never to the *url.Error
// itself, whose text would repeat the URL. Error(nil) is nil.
func Error(err error, secretURLs ...string) error {
	if err == nil {
		return nil
	}
	secrets := parseAll(secretURLs)
	msg := err.Error()
	var cause error
	walk(err, func(e error) {
		ue, ok := e.(*url.Error)
		if !ok {
			return
		}
		if cause == nil {
			cause = ue.Err
		}
		shown := Mark
		if u, err := url.Parse(ue.URL); err == nil && u.Scheme != "" {
			shown = showIn(ue.URL, secrets)
		}
		msg = strings.ReplaceAll(msg, strconv.Quote(ue.URL), strconv.Quote(shown))
		if ue.URL != "" {
			msg = strings.ReplaceAll(msg, ue.URL, shown)
		}
	})
	for {
		ue, ok := cause.(*url.Error)
		if !ok {
			break
		}
		cause = ue.Err
	}
	return &redacted{msg: Text(msg, secretURLs...), cause: cause}
}

type redacted struct {
	msg   string
	cause error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.cause }

// walk calls f on err and every error it wraps, through Unwrap() error and
// Unwrap() []error (errors.Join).
func walk(err error, f func(error)) {
	if err == nil {
		return
	}
	f(err)
	switch w := err.(type) {
	case interface{ Unwrap() error }:
		walk(w.Unwrap(), f)
	case interface{ Unwrap() []error }:
		for _, e := range w.Unwrap() {
			walk(e, f)
		}
	}
}

func parseAll(raws []string) []*url.URL {
	var out []*url.URL
	for _, r := range raws {
		if u, err := url.Parse(strings.TrimSpace(r)); err == nil && u.Host != "" {
			out = append(out, u)
		}
	}
	return out
}

// showIn shows one URL found in a message: as a secret when it is on a secret URL's host
// and under its path (a webhook plugin's lookup adds ?idempotency_key=… to its URL).
func showIn(raw string, secrets []*url.URL) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return Mark
	}
	return format(u, under(u, secrets))
}

func under(u *url.URL, secrets []*url.URL) bool {
	for _, s := range secrets {
		if strings.EqualFold(u.Scheme, s.Scheme) && strings.EqualFold(u.Host, s.Host) &&
			strings.HasPrefix(u.EscapedPath(), strings.TrimSuffix(s.EscapedPath(), "/")) {
			return true
		}
	}
	return false
}

// scrub removes the secret parts of secrets from msg, wherever they appear.
func scrub(msg string, secrets []*url.URL) string {
	for _, s := range secrets {
		for _, p := range pieces(s) {
			for _, form := range forms(p) {
				if len(form) >= minPiece {
					msg = strings.ReplaceAll(msg, form, Mark)
				}
			}
		}
	}
	return msg
}

// pieces are the parts of a secret URL that may be secrets on their own.
func pieces(u *url.URL) []string {
	var ps []string
	if u.User != nil {
		name := u.User.Username()
		ps = append(ps, name)
		if pw, ok := u.User.Password(); ok {
			ps = append(ps, pw, name+":"+pw) // the latter as HTTP basic auth encodes it
		}
	}
	for _, v := range u.Query() {
		ps = append(ps, v...)
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		ps = append(ps, p)
		ps = append(ps, strings.Split(p, "/")...)
	}
	if u.Fragment != "" {
		ps = append(ps, u.Fragment)
	}
	return ps
}

// forms are the ways a secret part is written in messages: as it is, percent-encoded (in
// a path or a query) and base64-encoded (HTTP basic auth, tokens handed on).
func forms(p string) []string {
	return []string{p, url.PathEscape(p), url.QueryEscape(p),
		base64.StdEncoding.EncodeToString([]byte(p)), base64.RawURLEncoding.EncodeToString([]byte(p))}
}

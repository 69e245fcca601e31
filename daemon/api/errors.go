package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"syscall"

	"github.com/tact-hq/tact/daemon/queue"
)

// ErrorBody is the JSON body of every 4xx/5xx answer: what is wrong and, for bad input,
// the field at fault. Extra details (the current post on a conflict, the bad rows of an
// import) ride along in the same object.
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	// Post is the post as stored now, on a 409 about a post, so that a second person sees
	// what changed under them.
	Post any `json:"post,omitempty"`
	// Campaign is the campaign as stored now, on a 409 about a campaign.
	Campaign any `json:"campaign,omitempty"`
	// Problems are the networks' findings when a post cannot be approved.
	Problems []string `json:"problems,omitempty"`
	// Rows are the bad rows of a bulk import (nothing was imported).
	Rows []RowError `json:"rows,omitempty"`
}

// RowError is one bad row of a bulk import.
type RowError struct {
	Line  int    `json:"line"` // CSV line, or 1-based item number of a JSON array
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

// StatusClientClosedRequest is the status recorded for a request whose client went away
// before its answer (nginx's 499). Nobody reads it; it is not a server error.
const StatusClientClosedRequest = 499

// ClientGone reports whether err happened because the client went away: the request's
// context (ctx) was cancelled, which net/http does when the connection closes, or writing to
// the client failed with a broken pipe or a reset. Such errors are logged at DEBUG only and
// answered 499. A deadline that runs out inside the daemon is not this: it stays an
// internal error (500, logged at ERROR).
func ClientGone(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return true
	}
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

// StatusFor is StatusOf for an error met while serving a request with context ctx: 499 when
// the client went away (ClientGone), else StatusOf(err).
func StatusFor(ctx context.Context, err error) int {
	if ClientGone(ctx, err) {
		return StatusClientClosedRequest
	}
	return StatusOf(err)
}

// StatusOf maps an error to its HTTP status. This is the one place that does it; the web
// UI uses it too.
func StatusOf(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	switch queue.ErrorKind(err) {
	case queue.Invalid:
		return http.StatusBadRequest
	case queue.NotFound:
		return http.StatusNotFound
	case queue.Conflict:
		return http.StatusConflict
	case queue.Unauthorized:
		return http.StatusUnauthorized
	case queue.Forbidden:
		return http.StatusForbidden
	case queue.Unavailable:
		return http.StatusServiceUnavailable
	case queue.TooLarge:
		return http.StatusRequestEntityTooLarge
	case queue.Unsupported:
		return http.StatusUnsupportedMediaType
	default:
		return http.StatusInternalServerError
	}
}

// Describe returns the status and the body for err. Errors without a kind are internal:
// their text may name files, SQL or secrets, so people get a generic message and the log
// gets the detail.
func Describe(err error) (int, ErrorBody) {
	status := StatusOf(err)
	switch status {
	case http.StatusRequestEntityTooLarge:
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			break // a queue.TooLarge error says its own limit
		}
		return status, ErrorBody{Error: "request body is larger than " + byteSize(mbe.Limit) +
			"; send less (split a bulk import into several files)"}
	case http.StatusInternalServerError:
		return status, ErrorBody{Error: "internal error; the daemon's log has the detail"}
	}
	body := ErrorBody{Error: err.Error(), Field: queue.ErrorField(err)}
	var d *detailError
	if errors.As(err, &d) {
		body.Post, body.Campaign, body.Problems, body.Rows = d.post, d.campaign, d.problems, d.rows
	}
	return status, body
}

// WriteError answers err as JSON with its status, logging internal errors. A client that
// went away gets only a DEBUG line and a bare 499 (ClientGone).
func WriteError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	if ClientGone(r.Context(), err) {
		if log != nil {
			log.DebugContext(r.Context(), "api: client went away", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		w.WriteHeader(StatusClientClosedRequest)
		return
	}
	status, body := Describe(err)
	if status == http.StatusInternalServerError && log != nil {
		log.Error("api: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tact"`)
	}
	writeJSON(w, status, body)
}

// detailError carries extra detail for the error body next to a domain error.
type detailError struct {
	err      error
	post     any
	campaign any
	problems []string
	rows     []RowError
}

func (e *detailError) Error() string { return e.err.Error() }
func (e *detailError) Unwrap() error { return e.err }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := encodeJSON(v)
	if err != nil {
		writeBody(w, status, nil) // as json.Encoder: a value that cannot be encoded writes no body
		return
	}
	writeBody(w, status, b)
}

// encodeJSON is the body writeJSON sends for v: indented as json.Encoder with SetIndent
// would, HTML escaped as json.Marshal does, with a final newline.
func encodeJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := appendIndented(make([]byte, 0, len(b)+len(b)/2+1), b)
	return append(out, '\n'), nil
}

// writeBody sends an encoded JSON body.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing useful to do
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	default:
		return strconv.FormatInt(n, 10) + " bytes"
	}
}

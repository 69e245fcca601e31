package queue

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that the API maps it to a status code in one place.
type Kind string

const (
	Invalid      Kind = "invalid"      // 400: bad input, nothing changed
	NotFound     Kind = "not_found"    // 404
	Conflict     Kind = "conflict"     // 409: illegal transition or stale version
	Unauthorized Kind = "unauthorized" // 401
	Forbidden    Kind = "forbidden"    // 403
	Unavailable  Kind = "unavailable"  // 503: storage busy or full; try again
	TooLarge     Kind = "too_large"    // 413: an upload over its limit
	Unsupported  Kind = "unsupported"  // 415: an upload of a type tact does not take
)

// Error is a domain error with a kind and, for invalid input, the field at fault.
type Error struct {
	Kind    Kind
	Field   string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind about field.
func Errorf(kind Kind, field, format string, args ...any) error {
	return &Error{Kind: kind, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the kind of err, or "" for errors that are not domain errors
// (which the API reports as 500 without their text).
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// ErrorField returns the field an invalid-input error is about, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Package errs is the archive's one error vocabulary: a small set of codes,
// each meaning one thing to the person who sees it, carried by an *Error
// from wherever the fault is found (db, storage, signin, metadata) to the
// one place that turns it into a status (httpx). It depends on nothing of
// the project, so every package can use it.
package errs

import (
	"errors"
	"fmt"
	"time"
)

// Code is one word of the vocabulary. Its text is the "code" of the JSON
// error clients see.
type Code string

// The codes. httpx maps each to its HTTP status.
const (
	Invalid             Code = "invalid"      // the input is wrong; Field names it
	Unauthenticated     Code = "unauthorized" // no live session
	Forbidden           Code = "forbidden"    // signed in, but not allowed
	NotFound            Code = "not_found"    // no such thing (or not yours)
	NotReady            Code = "not_ready"    // not made yet (a listening copy): try later
	MethodNotAllowed    Code = "method_not_allowed"
	Conflict            Code = "conflict"            // it exists already (Details name it), or the state moved on
	Locked              Code = "locked"              // someone else is changing it right now: retry
	Precondition        Code = "precondition_failed" // a protocol version or condition the server does not meet
	TooLarge            Code = "too_large"           // over a size limit
	Unsupported         Code = "unsupported"         // a media type the archive does not take
	RateLimited         Code = "rate_limited"        // too many requests; RetryAfter says when
	Unavailable         Code = "unavailable"         // a dependency is down: try again soon
	InsufficientStorage Code = "insufficient_storage"
	Internal            Code = "internal" // a bug or an unknown fault: nothing is said
)

// Error is a fault with a message written for a person. Message is shown;
// Err, the cause, is only logged.
type Error struct {
	Code    Code
	Message string
	// Field names the input that is wrong (Invalid), so a page can mark it.
	Field string
	// RetryAfter tells the client when to try again (RateLimited, Unavailable).
	RetryAfter time.Duration
	// Details are extra fields for the client (the existing id of a Conflict).
	Details map[string]any
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is match an *Error by code and message, so a package can
// keep a sentinel like ErrNoRecording and callers can test for it.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == e.Message
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error whose cause err is logged but never shown.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// InvalidField returns an Invalid error naming the field that is wrong.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// CodeOf returns the code of err: Internal for an error that carries none,
// "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	if e := As(err); e != nil {
		return e.Code
	}
	return Internal
}

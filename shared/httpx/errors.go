// Package httpx holds the HTTP plumbing every function shares: handlers
// that return errors, the JSON error shape of SPEC.md, request ids, request
// logs and security headers.
package httpx

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is one word of the error vocabulary shared by every function.
type Code string

// The error codes; Status maps each to its HTTP status.
const (
	Invalid          Code = "invalid"
	Unauthorized     Code = "unauthorized"
	Forbidden        Code = "forbidden"
	NotFound         Code = "not_found"
	MethodNotAllowed Code = "method_not_allowed"
	Conflict         Code = "conflict"
	TooLarge         Code = "too_large"
	Unsupported      Code = "unsupported"
	RateLimited      Code = "rate_limited"
	Unavailable      Code = "unavailable"
	Internal         Code = "internal"
)

var statusOf = map[Code]int{
	Invalid:          http.StatusBadRequest,
	Unauthorized:     http.StatusUnauthorized,
	Forbidden:        http.StatusForbidden,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	Conflict:         http.StatusConflict,
	TooLarge:         http.StatusRequestEntityTooLarge,
	Unsupported:      http.StatusUnsupportedMediaType,
	RateLimited:      http.StatusTooManyRequests,
	Unavailable:      http.StatusServiceUnavailable,
	Internal:         http.StatusInternalServerError,
}

// Status is the HTTP status for a code; unknown codes are internal errors.
func (c Code) Status() int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is an error meant for a client: Message is written for a person and
// sent; Err is the cause, logged but never sent.
type Error struct {
	Code    Code
	Message string
	Err     error
	// Header is added to the response (e.g. Retry-After on a 429).
	Header http.Header
	// Details is sent as extra fields of the error object (e.g. an existing id).
	Details map[string]any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message for the client.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error whose cause err is logged but not sent.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// CodeOf returns the code of err, Internal for errors that carry none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

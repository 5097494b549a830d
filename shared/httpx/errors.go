// Package httpx holds the HTTP plumbing every function shares: handlers
// that return errors, the one table from error codes to statuses, the JSON
// error shape of SPEC.md, request ids, request logs and security headers.
package httpx

import (
	"net/http"

	"bandarchive/shared/errs"
)

// StatusClientClosedRequest is logged (never sent) for a request whose
// client went away before the answer, as Nginx logs it.
const StatusClientClosedRequest = 499

// statusOf is the one place an error code becomes a status.
var statusOf = map[errs.Code]int{
	errs.Invalid:             http.StatusBadRequest,
	errs.Unauthenticated:     http.StatusUnauthorized,
	errs.Forbidden:           http.StatusForbidden,
	errs.NotFound:            http.StatusNotFound,
	errs.NotReady:            http.StatusNotFound,
	errs.MethodNotAllowed:    http.StatusMethodNotAllowed,
	errs.Conflict:            http.StatusConflict,
	errs.Locked:              http.StatusLocked,
	errs.Precondition:        http.StatusPreconditionFailed,
	errs.TooLarge:            http.StatusRequestEntityTooLarge,
	errs.Unsupported:         http.StatusUnsupportedMediaType,
	errs.RateLimited:         http.StatusTooManyRequests,
	errs.Unavailable:         http.StatusServiceUnavailable,
	errs.InsufficientStorage: http.StatusInsufficientStorage,
	errs.Internal:            http.StatusInternalServerError,
}

// Status is the HTTP status for a code; unknown codes are internal errors.
func Status(c errs.Code) int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

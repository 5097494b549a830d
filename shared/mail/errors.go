package mail

import (
	"errors"
	"fmt"
)

// ErrNotSent is wrapped by every error Mailersend.Send returns: whatever went
// wrong, the mail did not reach the recipient.
var ErrNotSent = errors.New("mail not sent")

// The kinds of failure, each wrapped by the *Error that Send returns, so that
// errors.Is(err, ErrInvalid) tells a caller (or a test) what happened.
var (
	// ErrSendPaused: Mailersend accepted the request (202) but sending is
	// paused on the account, so the mail is not delivered now.
	ErrSendPaused = errors.New("mailersend has sending paused")
	// ErrSuppressed: Mailersend accepted the request (202) but the recipient
	// is on a suppression list (hard bounce, spam complaint, unsubscribe).
	ErrSuppressed = errors.New("recipient is suppressed")
	// ErrNoMessageID: a 202 without X-Message-Id; without the id nothing
	// shows that Mailersend queued the mail.
	ErrNoMessageID = errors.New("mailersend answered without a message id")
	// ErrUnauthorized: 401 or 403, a bad token or an account problem.
	ErrUnauthorized = errors.New("mailersend rejected the API token or account")
	// ErrInvalid: 422, Mailersend found the request invalid; Error.Fields
	// says why.
	ErrInvalid = errors.New("mailersend rejected the mail as invalid")
	// ErrRateLimited: 429 whose Retry-After did not fit the time budget.
	ErrRateLimited = errors.New("mailersend rate limit or quota reached")
	// ErrUnavailable: 5xx answers, timeouts or connection errors until the
	// time budget ran out.
	ErrUnavailable = errors.New("mailersend unavailable")
	// ErrRejected: any other answer, such as an unexpected 4xx.
	ErrRejected = errors.New("mailersend rejected the request")
)

// Error describes why Mailersend.Send did not send a mail. It wraps
// ErrNotSent, one of the kinds above (Kind) and, when there was one, the
// last transport or context error (Err), so errors.Is works on all three.
type Error struct {
	Kind      error               // ErrSendPaused, ErrInvalid, ...
	Status    int                 // HTTP status of the last answer; 0 if none came
	Attempts  int                 // HTTP calls made
	Retryable bool                // whether Send retries this kind when the budget allows
	Message   string              // Mailersend's "message" on a 4xx, or a suppression's reasons
	Fields    map[string][]string // Mailersend's field errors of a 422, if any
	Err       error               // last transport or context error, if any
}

// Error describes the failure without any part of the mail.
func (e *Error) Error() string {
	answer := "no answer"
	if e.Status != 0 {
		answer = fmt.Sprintf("status %d", e.Status)
	}
	s := fmt.Sprintf("%v: %v (%s, attempts %d)", ErrNotSent, e.Kind, answer, e.Attempts)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrNotSent, Kind and Err, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	errs := []error{ErrNotSent}
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

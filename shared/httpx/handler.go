package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
)

// HandlerFunc is an http handler that returns its error instead of writing
// it, so no handler can forget to stop after an error.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP runs f; a returned error becomes the JSON error of SPEC.md and a
// panic becomes a 500 whose body says nothing internal.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := Track(w)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			err := fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			WriteError(tw, r, err)
		}
	}()
	if err := f(tw, r); err != nil {
		WriteError(tw, r, err)
	}
}

type errorBody struct {
	Error map[string]any `json:"error"`
}

// WriteError logs err with the request id and, unless a response was
// already started, answers it as {"error": {"code", "message"}}. Internal
// errors get a fixed message: their text stays in the log.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	var netErr *net.OpError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &netErr):
		// A dependency (the database) cannot be reached: the request may
		// well succeed in a moment, which a 500 would not say.
		e = &Error{Code: Unavailable, Message: "The archive cannot reach its database right now. Please try again in a minute.",
			Err: err, Header: http.Header{"Retry-After": {"30"}}}
	default:
		e = &Error{Code: Internal, Message: "Something went wrong on our side. Please try again.", Err: err}
	}
	status := e.Code.Status()
	log := Logger(r.Context())
	if status >= 500 {
		log.Error("request failed", "code", e.Code, "status", status, "err", err.Error())
	} else {
		log.Info("request refused", "code", e.Code, "status", status, "err", err.Error())
	}
	if tw, ok := w.(*Tracked); ok && tw.Status() != 0 {
		return // too late to change the answer; the log has the cause
	}
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := map[string]any{"code": e.Code, "message": e.Message}
	for k, v := range e.Details {
		body[k] = v
	}
	WriteJSON(w, status, errorBody{Error: body})
}

// WriteJSON answers v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"encoding failed"}}`, http.StatusInternalServerError)
		return fmt.Errorf("encode response: %w", err)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// NotFoundHandler answers unknown paths in the JSON error shape.
func NotFoundHandler() http.Handler {
	return HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return Errorf(NotFound, "There is nothing at %s.", RedactPath(r.URL.Path))
	})
}

// discard is a logger for requests that carry none (direct handler tests).
var discard = slog.New(slog.DiscardHandler)

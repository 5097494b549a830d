package httpx

import (
	"bandarchive/shared/errs"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
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
// already started, answers it as {"error": {"code", "message"}}, with
// "field" for invalid input and any details. An error without a code is
// internal: its text stays in the log and the client gets a fixed message.
// A client that went away gets nothing and is logged as 499 at info level:
// it is no fault of the archive's.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	log := Logger(r.Context())
	if r.Context().Err() != nil {
		log.Info("client went away", "status", StatusClientClosedRequest, "err", err.Error())
		if tw, ok := w.(*Tracked); ok {
			tw.status = StatusClientClosedRequest
		}
		return
	}
	e := errs.As(err)
	if e == nil {
		e = &errs.Error{Code: errs.Internal, Message: "Something went wrong on our side. Please try again."}
	}
	status := Status(e.Code)
	if status >= 500 {
		log.Error("request failed", "code", e.Code, "status", status, "err", err.Error())
	} else {
		log.Info("request refused", "code", e.Code, "status", status, "err", err.Error())
	}
	if tw, ok := w.(*Tracked); ok && tw.Status() != 0 {
		return // too late to change the answer; the log has the cause
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	body := map[string]any{"code": e.Code, "message": e.Message}
	if e.Field != "" {
		body["field"] = e.Field
	}
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
		return errs.Errorf(errs.NotFound, "There is nothing at %s.", RedactPath(r.URL.Path))
	})
}

// discard is a logger for requests that carry none (direct handler tests).
var discard = slog.New(slog.DiscardHandler)

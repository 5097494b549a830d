package httpx_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
)

// secret stands for what must stay in the log: SQL, driver messages.
const secret = "pq: secret SQL detail"

// logLine is one JSON line of the request log.
type logLine map[string]any

// serve runs h behind httpx.Stack with a JSON logger and returns the
// response and every log line.
func serve(t *testing.T, h http.Handler, o httpx.Options, r *http.Request) (*httptest.ResponseRecorder, []logLine) {
	t.Helper()
	var logs bytes.Buffer
	o.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := httptest.NewRecorder()
	httpx.Stack(h, o).ServeHTTP(w, r)
	return w, parseLog(t, logs.String())
}

func parseLog(t *testing.T, s string) []logLine {
	t.Helper()
	var lines []logLine
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

// find returns the first log line with message msg.
func find(lines []logLine, msg string) logLine {
	for _, l := range lines {
		if l["msg"] == msg {
			return l
		}
	}
	return nil
}

func failing(err error) http.Handler {
	return httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return err })
}

func TestEveryCodeAnswersItsStatusAsJSON(t *testing.T) {
	tests := []struct {
		code errs.Code
		want int
	}{
		{errs.Invalid, http.StatusBadRequest},
		{errs.Unauthenticated, http.StatusUnauthorized},
		{errs.Forbidden, http.StatusForbidden},
		{errs.NotFound, http.StatusNotFound},
		{errs.MethodNotAllowed, http.StatusMethodNotAllowed},
		{errs.Conflict, http.StatusConflict},
		{errs.TooLarge, http.StatusRequestEntityTooLarge},
		{errs.Unsupported, http.StatusUnsupportedMediaType},
		{errs.RateLimited, http.StatusTooManyRequests},
		{errs.Unavailable, http.StatusServiceUnavailable},
		{errs.Internal, http.StatusInternalServerError},
		{errs.Code("no_such_code"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			if got := httpx.Status(tt.code); got != tt.want {
				t.Errorf("Status(): got %d, want %d", got, tt.want)
			}
			w, _ := serve(t, failing(errs.Errorf(tt.code, "Message for %s.", "a person")), httpx.Options{},
				httptest.NewRequest(http.MethodGet, "/api/me", nil))
			if w.Code != tt.want {
				t.Errorf("status: got %d, want %d", w.Code, tt.want)
			}
			want := fmt.Sprintf(`{"error":{"code":%q,"message":"Message for a person."}}`+"\n", tt.code)
			if got := w.Body.String(); got != want {
				t.Errorf("body: got %s, want %s", got, want)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type: got %q, want application/json; charset=utf-8", ct)
			}
		})
	}
}

func TestErrorsKeepTheirCauseInTheLog(t *testing.T) {
	cause := errors.New(secret)
	tests := []struct {
		name        string
		handler     http.Handler
		want        int
		wantBody    string
		wantLog     string // message of the log line that must carry the cause
		wantLevel   string
		wantInLog   string
		wantHeaders map[string]string
	}{
		{
			name:      "plain error is internal with a fixed message",
			handler:   failing(cause),
			want:      http.StatusInternalServerError,
			wantBody:  `{"error":{"code":"internal","message":"Something went wrong on our side. Please try again."}}`,
			wantLog:   "request failed",
			wantLevel: "ERROR",
			wantInLog: secret,
		},
		{
			name:      "wrapped error is still internal",
			handler:   failing(fmt.Errorf("find recording 42: %w", cause)),
			want:      http.StatusInternalServerError,
			wantBody:  `{"error":{"code":"internal","message":"Something went wrong on our side. Please try again."}}`,
			wantLog:   "request failed",
			wantLevel: "ERROR",
			wantInLog: "find recording 42: " + secret,
		},
		{
			name:      "unavailable sends its message, logs its cause",
			handler:   failing(errs.Wrap(errs.Unavailable, cause, "The archive is resting. Try again in a minute.")),
			want:      http.StatusServiceUnavailable,
			wantBody:  `{"error":{"code":"unavailable","message":"The archive is resting. Try again in a minute."}}`,
			wantLog:   "request failed",
			wantLevel: "ERROR",
			wantInLog: secret,
		},
		{
			name:      "a refusal is logged at info",
			handler:   failing(errs.Wrap(errs.NotFound, cause, "There is no such recording.")),
			want:      http.StatusNotFound,
			wantBody:  `{"error":{"code":"not_found","message":"There is no such recording."}}`,
			wantLog:   "request refused",
			wantLevel: "INFO",
			wantInLog: secret,
		},
		{
			name:      "a client error wrapped with context keeps its code",
			handler:   failing(fmt.Errorf("upload: %w", errs.Errorf(errs.Conflict, "This recording is already in the archive."))),
			want:      http.StatusConflict,
			wantBody:  `{"error":{"code":"conflict","message":"This recording is already in the archive."}}`,
			wantLog:   "request refused",
			wantLevel: "INFO",
			wantInLog: "upload: ",
		},
		{
			name: "headers and details travel with the error",
			handler: failing(&errs.Error{
				Code: errs.RateLimited, Message: "Too many links asked for. Try again later.",
				RetryAfter: 119500 * time.Millisecond, // rounded up
				Details:    map[string]any{"retry_after_seconds": 120},
			}),
			want:        http.StatusTooManyRequests,
			wantBody:    `{"error":{"code":"rate_limited","message":"Too many links asked for. Try again later.","retry_after_seconds":120}}`,
			wantLog:     "request refused",
			wantLevel:   "INFO",
			wantInLog:   "rate_limited",
			wantHeaders: map[string]string{"Retry-After": "120"},
		},
		{
			name:      "invalid input names its field",
			handler:   failing(errs.InvalidField("display_name", "The name contains control characters.")),
			want:      http.StatusBadRequest,
			wantBody:  `{"error":{"code":"invalid","field":"display_name","message":"The name contains control characters."}}`,
			wantLog:   "request refused",
			wantLevel: "INFO",
			wantInLog: "control characters",
		},
		{
			name:      "a full disk is 507 and logged as an error",
			handler:   failing(errs.Wrap(errs.InsufficientStorage, cause, "The archive is out of space.")),
			want:      http.StatusInsufficientStorage,
			wantBody:  `{"error":{"code":"insufficient_storage","message":"The archive is out of space."}}`,
			wantLog:   "request failed",
			wantLevel: "ERROR",
			wantInLog: secret,
		},
		{
			name:      "a panic is a 500 with the fixed message",
			handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(cause) }),
			want:      http.StatusInternalServerError,
			wantBody:  `{"error":{"code":"internal","message":"Something went wrong on our side. Please try again."}}`,
			wantLog:   "request failed",
			wantLevel: "ERROR",
			wantInLog: "panic: " + secret,
		},
		{
			name: "an error after the answer started changes nothing",
			handler: httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, `{"id":"r1"}`)
				return fmt.Errorf("write audit row: %w", cause)
			}),
			want:      http.StatusCreated,
			wantBody:  `{"id":"r1"}`,
			wantLog:   "request failed",
			wantLevel: "ERROR",
			wantInLog: secret,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, logs := serve(t, tt.handler, httpx.Options{}, httptest.NewRequest(http.MethodPost, "/api/upload", nil))
			if w.Code != tt.want {
				t.Errorf("status: got %d, want %d", w.Code, tt.want)
			}
			if got := strings.TrimSuffix(w.Body.String(), "\n"); got != tt.wantBody {
				t.Errorf("body: got %s, want %s", got, tt.wantBody)
			}
			if strings.Contains(w.Body.String(), "secret") || strings.Contains(w.Body.String(), "goroutine") {
				t.Errorf("body %q carries internal text", w.Body.String())
			}
			for k, want := range tt.wantHeaders {
				if got := w.Header().Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			id := w.Header().Get("X-Request-Id")
			if id == "" {
				t.Fatal("X-Request-Id: got none, want one")
			}
			l := find(logs, tt.wantLog)
			if l == nil {
				t.Fatalf("log: got no %q line in %v", tt.wantLog, logs)
			}
			if l["request_id"] != id {
				t.Errorf("log request_id: got %v, want %q (the X-Request-Id)", l["request_id"], id)
			}
			if l["level"] != tt.wantLevel {
				t.Errorf("log level: got %v, want %s", l["level"], tt.wantLevel)
			}
			if errText, _ := l["err"].(string); !strings.Contains(errText, tt.wantInLog) {
				t.Errorf("log err: got %q, want it to contain %q", errText, tt.wantInLog)
			}
			if req := find(logs, "request"); req == nil || req["status"] != float64(tt.want) {
				t.Errorf("request log line: got %v, want status %d", req, tt.want)
			}
		})
	}
}

func TestNotFoundHandlerRedactsTheTokenFromItsMessage(t *testing.T) {
	const token = "c2VjcmV0LWludml0ZS10b2tlbi0zMi1ieXRlcy1sb25n"
	w, logs := serve(t, httpx.NotFoundHandler(), httpx.Options{}, httptest.NewRequest(http.MethodGet, "/join/"+token+"/x", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("status: got %d, want %d", w.Code, http.StatusNotFound)
	}
	want := `{"error":{"code":"not_found","message":"There is nothing at /join/REDACTED/x."}}` + "\n"
	if got := w.Body.String(); got != want {
		t.Errorf("body: got %s, want %s", got, want)
	}
	for _, l := range logs {
		if b, _ := json.Marshal(l); strings.Contains(string(b), token) {
			t.Errorf("log line %s carries the token", b)
		}
	}
}

// TestClientThatWentAwayIs499AtInfo cancels the request as net/http does
// when the client disconnects: nothing is answered, and the log says 499 at
// info level, not a 500 at error level.
func TestClientThatWentAwayIs499AtInfo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h := httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		cancel()
		return fmt.Errorf("read upload: %w", r.Context().Err())
	})
	w, logs := serve(t, h, httpx.Options{}, httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/upload", nil))
	if w.Body.Len() != 0 {
		t.Errorf("body: got %q, want none", w.Body.String())
	}
	l := find(logs, "client went away")
	if l == nil || l["level"] != "INFO" {
		t.Fatalf("log: got %v, want a client went away line at INFO", logs)
	}
	if req := find(logs, "request"); req == nil || req["status"] != float64(httpx.StatusClientClosedRequest) {
		t.Errorf("request log line: got %v, want status 499", req)
	}
	if find(logs, "request failed") != nil {
		t.Errorf("log: got a request failed line for a client that went away")
	}
}

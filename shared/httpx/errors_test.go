package httpx_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
		code httpx.Code
		want int
	}{
		{httpx.Invalid, http.StatusBadRequest},
		{httpx.Unauthorized, http.StatusUnauthorized},
		{httpx.Forbidden, http.StatusForbidden},
		{httpx.NotFound, http.StatusNotFound},
		{httpx.MethodNotAllowed, http.StatusMethodNotAllowed},
		{httpx.Conflict, http.StatusConflict},
		{httpx.TooLarge, http.StatusRequestEntityTooLarge},
		{httpx.Unsupported, http.StatusUnsupportedMediaType},
		{httpx.RateLimited, http.StatusTooManyRequests},
		{httpx.Unavailable, http.StatusServiceUnavailable},
		{httpx.Internal, http.StatusInternalServerError},
		{httpx.Code("no_such_code"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			if got := tt.code.Status(); got != tt.want {
				t.Errorf("Status(): got %d, want %d", got, tt.want)
			}
			w, _ := serve(t, failing(httpx.Errorf(tt.code, "Message for %s.", "a person")), httpx.Options{},
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
			handler:   failing(httpx.Wrap(httpx.Unavailable, cause, "The archive is resting. Try again in a minute.")),
			want:      http.StatusServiceUnavailable,
			wantBody:  `{"error":{"code":"unavailable","message":"The archive is resting. Try again in a minute."}}`,
			wantLog:   "request failed",
			wantLevel: "ERROR",
			wantInLog: secret,
		},
		{
			name:      "a refusal is logged at info",
			handler:   failing(httpx.Wrap(httpx.NotFound, cause, "There is no such recording.")),
			want:      http.StatusNotFound,
			wantBody:  `{"error":{"code":"not_found","message":"There is no such recording."}}`,
			wantLog:   "request refused",
			wantLevel: "INFO",
			wantInLog: secret,
		},
		{
			name:      "a client error wrapped with context keeps its code",
			handler:   failing(fmt.Errorf("upload: %w", httpx.Errorf(httpx.Conflict, "This recording is already in the archive."))),
			want:      http.StatusConflict,
			wantBody:  `{"error":{"code":"conflict","message":"This recording is already in the archive."}}`,
			wantLog:   "request refused",
			wantLevel: "INFO",
			wantInLog: "upload: ",
		},
		{
			name: "headers and details travel with the error",
			handler: failing(&httpx.Error{
				Code: httpx.RateLimited, Message: "Too many links asked for. Try again later.",
				Header:  http.Header{"Retry-After": {"120"}},
				Details: map[string]any{"retry_after_seconds": 120},
			}),
			want:        http.StatusTooManyRequests,
			wantBody:    `{"error":{"code":"rate_limited","message":"Too many links asked for. Try again later.","retry_after_seconds":120}}`,
			wantLog:     "request refused",
			wantLevel:   "INFO",
			wantInLog:   "rate_limited",
			wantHeaders: map[string]string{"Retry-After": "120"},
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

// TestUnreachableDependencyIs503 dials a port nobody listens on, as a
// database outage does, and expects a 503 with Retry-After, not a 500.
func TestUnreachableDependencyIs503(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, dialErr := net.Dial("tcp", addr)
	if dialErr == nil {
		t.Fatal("dialing a closed port succeeded")
	}
	h := httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("find session: %w", dialErr)
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/me", nil))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "30" {
		t.Fatalf("got %d Retry-After %q, want 503 and 30", w.Code, w.Header().Get("Retry-After"))
	}
	if strings.Contains(w.Body.String(), addr) || !strings.Contains(w.Body.String(), `"code":"unavailable"`) {
		t.Fatalf("body %s: want the unavailable code and no address", w.Body.String())
	}
}

package httpx_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
)

var generatedID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestStackRequestID(t *testing.T) {
	tests := []struct {
		name     string
		incoming string
		want     string // "" means a freshly generated id
	}{
		{name: "none sent: one is generated", incoming: ""},
		{name: "a valid id is echoed", incoming: "Root-1_abc-0042", want: "Root-1_abc-0042"},
		{name: "64 characters is still valid", incoming: strings.Repeat("a", 64), want: strings.Repeat("a", 64)},
		{name: "markup is replaced", incoming: "<script>"},
		{name: "100 characters are replaced", incoming: strings.Repeat("a", 100)},
		{name: "spaces are replaced", incoming: "abc def"},
		{name: "a newline is replaced", incoming: "abc\ninjected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = httpx.RequestID(r.Context()) })
			r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
			if tt.incoming != "" {
				r.Header["X-Request-Id"] = []string{tt.incoming}
			}
			w, logs := serve(t, h, httpx.Options{}, r)
			got := w.Header().Get("X-Request-Id")
			if tt.want != "" && got != tt.want {
				t.Errorf("X-Request-Id: got %q, want %q", got, tt.want)
			}
			if tt.want == "" && !generatedID.MatchString(got) {
				t.Errorf("X-Request-Id: got %q, want 24 generated hex digits", got)
			}
			if seen != got {
				t.Errorf("RequestID in the handler: got %q, want %q", seen, got)
			}
			if l := find(logs, "request"); l == nil || l["request_id"] != got {
				t.Errorf("request log: got %v, want request_id %q", l, got)
			}
		})
	}
}

func TestStackGeneratesADifferentIDEachTime(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		w, _ := serve(t, http.NotFoundHandler(), httpx.Options{}, httptest.NewRequest(http.MethodGet, "/", nil))
		id := w.Header().Get("X-Request-Id")
		if seen[id] {
			t.Fatalf("id %q generated twice", id)
		}
		seen[id] = true
	}
}

func TestStackSetsSecurityHeadersOnEveryResponse(t *testing.T) {
	tests := []struct {
		name    string
		handler http.Handler
		want    int
	}{
		{"a body", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<p>hi</p>") }), http.StatusOK},
		{"nothing written", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), http.StatusOK},
		{"a redirect", http.RedirectHandler("/", http.StatusSeeOther), http.StatusSeeOther},
		{"plain http.Error", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusTeapot) }), http.StatusTeapot},
		{"a JSON error", failing(errs.Errorf(errs.Forbidden, "No.")), http.StatusForbidden},
		{"an internal error", failing(io.ErrUnexpectedEOF), http.StatusInternalServerError},
		{"a panic", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := serve(t, tt.handler, httpx.Options{}, httptest.NewRequest(http.MethodGet, "/", nil))
			if w.Code != tt.want {
				t.Errorf("status: got %d, want %d", w.Code, tt.want)
			}
			h := w.Header()
			for k, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy: got %q, want it to contain %q", csp, want)
				}
			}
			for _, banned := range []string{"'unsafe-inline'", "'unsafe-eval'", "*"} {
				if strings.Contains(csp, banned) {
					t.Errorf("Content-Security-Policy: got %q, want no %s", csp, banned)
				}
			}
			pp := h.Get("Permissions-Policy")
			if !strings.Contains(pp, "autoplay=(self)") {
				t.Errorf("Permissions-Policy: got %q, want autoplay=(self)", pp)
			}
			for _, feature := range strings.Split(pp, ",") {
				feature = strings.TrimSpace(feature)
				if !strings.HasPrefix(feature, "autoplay=") && !strings.HasSuffix(feature, "=()") {
					t.Errorf("Permissions-Policy: got %q, want only autoplay allowed", feature)
				}
			}
			if h.Get("X-Request-Id") == "" {
				t.Error("X-Request-Id: got none, want one")
			}
		})
	}
}

func TestStackRequestLog(t *testing.T) {
	const token = "c2VjcmV0LXNpZ24taW4tdG9rZW4tMzItYnl0ZXMtbG9uZw"
	clock := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time {
		t := clock
		clock = clock.Add(1500 * time.Microsecond)
		return t
	}
	h := httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		httpx.Logger(r.Context()).Info("handler note")
		w.WriteHeader(http.StatusSeeOther)
		_, err := io.WriteString(w, "12345")
		return err
	})
	r := httptest.NewRequest(http.MethodPost, "/auth/verify/"+token+"?next=/", nil)
	w, logs := serve(t, h, httpx.Options{Now: now}, r)

	id := w.Header().Get("X-Request-Id")
	l := find(logs, "request")
	if l == nil {
		t.Fatalf("got no request line in %v", logs)
	}
	want := map[string]any{
		"level":       "INFO",
		"request_id":  id,
		"method":      "POST",
		"path":        "/auth/verify/REDACTED",
		"status":      float64(http.StatusSeeOther),
		"bytes":       float64(5),
		"duration_ms": 1.5,
		"ip":          "192.0.2.1",
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("%s: got %v, want %v", k, l[k], v)
		}
	}
	if note := find(logs, "handler note"); note == nil || note["request_id"] != id {
		t.Errorf("the handler's logger: got %v, want a line with request_id %q", note, id)
	}
	for _, line := range logs {
		if b, _ := json.Marshal(line); strings.Contains(string(b), token) {
			t.Errorf("log line %s carries the token", b)
		}
	}
}

func TestOutsideTheStack(t *testing.T) {
	ctx := context.Background()
	if got := httpx.RequestID(ctx); got != "" {
		t.Errorf("RequestID: got %q, want \"\"", got)
	}
	if httpx.Logger(ctx) == nil {
		t.Error("Logger: got nil, want a logger that discards")
	}
	httpx.Logger(ctx).Info("must not panic")
}

func TestRedactPath(t *testing.T) {
	tests := []struct {
		name string
		path string
		want string
	}{
		{"verify link", "/auth/verify/abcDEF-_123", "/auth/verify/REDACTED"},
		{"join API", "/auth/join/abcDEF-_123", "/auth/join/REDACTED"},
		{"join page", "/join/abcDEF-_123", "/join/REDACTED"},
		{"join page with more after the token", "/join/abcDEF-_123/extra", "/join/REDACTED/extra"},
		{"an API path is unchanged", "/api/me", "/api/me"},
		{"a recording id is unchanged", "/api/recordings/0f1e2d3c", "/api/recordings/0f1e2d3c"},
		{"the prefix alone is unchanged", "/auth/verify/", "/auth/verify/"},
		{"without the slash it is unchanged", "/auth/verify", "/auth/verify"},
		{"send-link is unchanged", "/auth/send-link", "/auth/send-link"},
		{"root is unchanged", "/", "/"},
		{"verify link in another case", "/Auth/Verify/abcDEF-_123", "/Auth/Verify/REDACTED"},
		{"join page in capitals", "/JOIN/abcDEF-_123", "/JOIN/REDACTED"},
		{"join API in mixed case, cleaned", "/x/../aUtH/jOiN/abcDEF-_123", "/aUtH/jOiN/REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := httpx.RedactPath(tt.path); got != tt.want {
				t.Errorf("RedactPath(%q): got %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name       string
		header     string // ClientIPHeader option
		remoteAddr string
		sent       map[string]string
		want       string
	}{
		{name: "peer address without a trusted header", remoteAddr: "198.51.100.7:5555", want: "198.51.100.7"},
		{name: "header ignored when not trusted", remoteAddr: "198.51.100.7:5555", sent: map[string]string{"X-Real-Ip": "203.0.113.1"}, want: "198.51.100.7"},
		{name: "trusted header wins", header: "X-Real-Ip", remoteAddr: "10.0.0.2:5555", sent: map[string]string{"X-Real-Ip": "203.0.113.1"}, want: "203.0.113.1"},
		{name: "trusted header trimmed", header: "X-Real-Ip", remoteAddr: "10.0.0.2:5555", sent: map[string]string{"X-Real-Ip": " 203.0.113.1 "}, want: "203.0.113.1"},
		{name: "trusted header with IPv6", header: "X-Real-Ip", remoteAddr: "10.0.0.2:5555", sent: map[string]string{"X-Real-Ip": "2001:db8::1"}, want: "2001:db8::1"},
		{name: "trusted header missing", header: "X-Real-Ip", remoteAddr: "10.0.0.2:5555", want: "10.0.0.2"},
		{name: "bogus header value", header: "X-Real-Ip", remoteAddr: "10.0.0.2:5555", sent: map[string]string{"X-Real-Ip": "not-an-ip"}, want: "10.0.0.2"},
		{name: "a list is not an address", header: "X-Real-Ip", remoteAddr: "10.0.0.2:5555", sent: map[string]string{"X-Real-Ip": "203.0.113.1, 10.0.0.1"}, want: "10.0.0.2"},
		{name: "bare peer address (Lambda edge)", remoteAddr: "203.0.113.9", want: "203.0.113.9"},
		{name: "IPv6 peer", remoteAddr: "[2001:db8::2]:443", want: "2001:db8::2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = httpx.ClientIP(r) })
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remoteAddr
			for k, v := range tt.sent {
				r.Header.Set(k, v)
			}
			_, logs := serve(t, h, httpx.Options{ClientIPHeader: tt.header}, r)
			if got != tt.want {
				t.Errorf("ClientIP: got %q, want %q", got, tt.want)
			}
			if l := find(logs, "request"); l == nil || l["ip"] != tt.want {
				t.Errorf("request log: got %v, want ip %q", l, tt.want)
			}
		})
	}
}

func TestRedactPathCleansFirst(t *testing.T) {
	for _, p := range []string{"/x/../auth/verify/SECRET", "//auth/verify/SECRET", "/auth/./join/SECRET"} {
		if got := httpx.RedactPath(p); strings.Contains(got, "SECRET") {
			t.Errorf("RedactPath(%q) = %q: the token shows", p, got)
		}
	}
}

package runtime_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"bandarchive/shared/runtime"
)

func TestEventFromRequest(t *testing.T) {
	type want struct {
		method, rawPath, path, query, host, sourceIP string
		headers                                      map[string]string
		cookies                                      []string
		body                                         string
		base64                                       bool
	}
	tests := []struct {
		name  string
		build func() *http.Request
		want  want
	}{
		{
			name: "GET with query, list header and cookies",
			build: func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, "https://archive.test/api/recordings?sort=score&q=dat", nil)
				r.RemoteAddr = "198.51.100.4:41234"
				r.Header.Add("Accept", "text/html")
				r.Header.Add("Accept", "application/json")
				r.Header.Set("Cookie", "bandarchive_session=abc; theme=dark")
				return r
			},
			want: want{
				method: "GET", rawPath: "/api/recordings", path: "/api/recordings", query: "sort=score&q=dat",
				host: "archive.test", sourceIP: "198.51.100.4",
				headers: map[string]string{"accept": "text/html,application/json", "host": "archive.test"},
				cookies: []string{"bandarchive_session=abc", "theme=dark"},
			},
		},
		{
			name: "POST with a text body keeps it as text",
			build: func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "https://archive.test/auth/send-link", strings.NewReader(`{"email":"ann@example.org"}`))
				r.Header.Set("Content-Type", "application/json")
				return r
			},
			want: want{
				method: "POST", rawPath: "/auth/send-link", path: "/auth/send-link",
				host: "archive.test", sourceIP: "192.0.2.1",
				headers: map[string]string{"content-type": "application/json", "host": "archive.test"},
				body:    `{"email":"ann@example.org"}`,
			},
		},
		{
			name: "binary body travels in base64",
			build: func() *http.Request {
				return httptest.NewRequest(http.MethodPut, "https://archive.test/x", bytes.NewReader([]byte{0xff, 0x00, 0xfe}))
			},
			want: want{
				method: "PUT", rawPath: "/x", path: "/x", host: "archive.test", sourceIP: "192.0.2.1",
				headers: map[string]string{"host": "archive.test"},
				body:    base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0xfe}), base64: true,
			},
		},
		{
			name: "escaped path keeps its escapes in rawPath",
			build: func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, "https://archive.test/api/recordings/a%2Fb%20c", nil)
				r.RemoteAddr = "203.0.113.9" // the Lambda edge gives a bare address
				return r
			},
			want: want{
				method: "GET", rawPath: "/api/recordings/a%2Fb%20c", path: "/api/recordings/a/b c",
				host: "archive.test", sourceIP: "203.0.113.9",
				headers: map[string]string{"host": "archive.test"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := runtime.EventFromRequest(tt.build())
			if err != nil {
				t.Fatal(err)
			}
			got := want{
				method: e.RequestContext.HTTP.Method, rawPath: e.RawPath, path: e.RequestContext.HTTP.Path,
				query: e.RawQueryString, host: e.RequestContext.DomainName, sourceIP: e.RequestContext.HTTP.SourceIP,
				headers: e.Headers, cookies: e.Cookies, body: e.Body, base64: e.IsBase64Encoded,
			}
			if got.method != tt.want.method || got.rawPath != tt.want.rawPath || got.path != tt.want.path ||
				got.query != tt.want.query || got.host != tt.want.host || got.sourceIP != tt.want.sourceIP {
				t.Errorf("got method %q rawPath %q path %q query %q host %q sourceIP %q,\nwant method %q rawPath %q path %q query %q host %q sourceIP %q",
					got.method, got.rawPath, got.path, got.query, got.host, got.sourceIP,
					tt.want.method, tt.want.rawPath, tt.want.path, tt.want.query, tt.want.host, tt.want.sourceIP)
			}
			if !equalMaps(got.headers, tt.want.headers) {
				t.Errorf("headers: got %v, want %v", got.headers, tt.want.headers)
			}
			if !slices.Equal(got.cookies, tt.want.cookies) {
				t.Errorf("cookies: got %q, want %q", got.cookies, tt.want.cookies)
			}
			if got.body != tt.want.body || got.base64 != tt.want.base64 {
				t.Errorf("body: got %q (base64 %v), want %q (base64 %v)", got.body, got.base64, tt.want.body, tt.want.base64)
			}
			if e.Version != "2.0" {
				t.Errorf("version: got %q, want 2.0", e.Version)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestEventRoundTripsThroughTheAdapter checks, over many generated requests,
// that the adapter rebuilds from EventFromRequest's event the request that
// was sent: method, path, query and body byte for byte, base64 exactly when
// the body is not UTF-8.
func TestEventRoundTripsThroughTheAdapter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	paths := []string{"/", "/api/me", "/api/recordings/0f1e", "/join/abc_DEF-123", "/api/recordings/caf%C3%A9%20live"}
	queries := []string{"", "a=1", "q=dat+tape&sort=score", "download=1&x=%2F"}
	for i := range 300 {
		body := make([]byte, rng.IntN(64))
		for j := range body {
			if rng.IntN(4) == 0 {
				body[j] = byte(rng.IntN(256))
			} else {
				body[j] = byte('a' + rng.IntN(26))
			}
		}
		method, path, query := methods[rng.IntN(len(methods))], paths[rng.IntN(len(paths))], queries[rng.IntN(len(queries))]
		target := "https://archive.test" + path
		if query != "" {
			target += "?" + query
		}
		r := httptest.NewRequest(method, target, bytes.NewReader(body))
		r.Header.Set("X-Probe", "one, two")
		wantPath := r.URL.Path

		e, err := runtime.EventFromRequest(r)
		if err != nil {
			t.Fatalf("#%d: %v", i, err)
		}
		if want := len(body) > 0 && !utf8.Valid(body); e.IsBase64Encoded != want {
			t.Errorf("#%d body %x: got isBase64Encoded %v, want %v", i, body, e.IsBase64Encoded, want)
		}
		var acc core.RequestAccessorV2
		back, err := acc.EventToRequest(e)
		if err != nil {
			t.Fatalf("#%d: adapter: %v", i, err)
		}
		gotBody, _ := io.ReadAll(back.Body)
		if back.Method != method || back.URL.Path != wantPath || back.URL.RawQuery != query || !bytes.Equal(gotBody, body) {
			t.Errorf("#%d: got %s %s ? %q body %x, want %s %s ? %q body %x",
				i, back.Method, back.URL.Path, back.URL.RawQuery, gotBody, method, wantPath, query, body)
		}
	}
}

func TestResponseFromEvent(t *testing.T) {
	binary := []byte{0x00, 0xff, 0x10, 0x80}
	tests := []struct {
		name       string
		event      events.APIGatewayV2HTTPResponse
		wantStatus int
		wantHeader http.Header
		wantBody   []byte
		wantErr    bool
	}{
		{
			name:       "text body and headers",
			event:      events.APIGatewayV2HTTPResponse{StatusCode: 201, Headers: map[string]string{"content-type": "application/json"}, Body: `{"id":1}`},
			wantStatus: 201,
			wantHeader: http.Header{"Content-Type": {"application/json"}},
			wantBody:   []byte(`{"id":1}`),
		},
		{
			name:       "base64 body is decoded",
			event:      events.APIGatewayV2HTTPResponse{StatusCode: 206, Body: base64.StdEncoding.EncodeToString(binary), IsBase64Encoded: true},
			wantStatus: 206,
			wantHeader: http.Header{},
			wantBody:   binary,
		},
		{
			name: "cookies become Set-Cookie, multi-value headers add up",
			event: events.APIGatewayV2HTTPResponse{
				StatusCode:        303,
				Headers:           map[string]string{"Location": "/"},
				MultiValueHeaders: map[string][]string{"Vary": {"Origin", "Cookie"}},
				Cookies:           []string{"bandarchive_session=abc; Path=/; HttpOnly", "theme=dark"},
			},
			wantStatus: 303,
			wantHeader: http.Header{
				"Location":   {"/"},
				"Vary":       {"Origin", "Cookie"},
				"Set-Cookie": {"bandarchive_session=abc; Path=/; HttpOnly", "theme=dark"},
			},
			wantBody: []byte{},
		},
		{
			name:    "broken base64 is an error",
			event:   events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "not base64!", IsBase64Encoded: true},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := runtime.ResponseFromEvent(tt.event)
			if tt.wantErr {
				if err == nil {
					t.Fatal("got no error, want one")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if want := http.StatusText(tt.wantStatus); !strings.HasSuffix(resp.Status, want) {
				t.Errorf("status line: got %q, want it to end in %q", resp.Status, want)
			}
			for k, want := range tt.wantHeader {
				if got := resp.Header.Values(k); !slices.Equal(got, want) {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if len(resp.Header) != len(tt.wantHeader) {
				t.Errorf("headers: got %v, want %v", resp.Header, tt.wantHeader)
			}
			body, _ := io.ReadAll(resp.Body)
			if !bytes.Equal(body, tt.wantBody) || resp.ContentLength != int64(len(tt.wantBody)) {
				t.Errorf("body: got %x (length %d), want %x", body, resp.ContentLength, tt.wantBody)
			}
		})
	}
}

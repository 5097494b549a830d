package runtime_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"bandarchive/shared/httpx"
	"bandarchive/shared/runtime"
)

// testOrigin is the public origin the Lambda edge's requests are built for.
const testOrigin = "https://archive.test"

// request describes one client request, built afresh for each edge.
type request struct {
	method string
	target string // path and query
	header http.Header
	body   []byte
}

func (q request) build(t *testing.T, base string) *http.Request {
	t.Helper()
	method := q.method
	if method == "" {
		method = http.MethodGet
	}
	target := q.target
	if target == "" {
		target = "/"
	}
	var body io.Reader
	if q.body != nil {
		body = bytes.NewReader(q.body)
	}
	r, err := http.NewRequest(method, base+target, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range q.header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return r
}

// answer is what a client saw.
type answer struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    []byte
}

// edges are the two ways a handler is served; each returns what a client of
// that edge would see.
var edges = []struct {
	name  string
	serve func(t *testing.T, h http.Handler, q request) answer
}{
	{"http", viaHTTP},
	{"lambda", viaLambda},
}

// viaHTTP serves h behind a real net/http server.
func viaHTTP(t *testing.T, h http.Handler, q request) answer {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Do(q.build(t, srv.URL))
	if err != nil {
		t.Fatalf("http edge: %v", err)
	}
	return read(t, resp)
}

// viaLambda sends the request as an API Gateway v2 event, through JSON as the
// Lambda service does, and turns the response event back into HTTP.
func viaLambda(t *testing.T, h http.Handler, q request) answer {
	t.Helper()
	r := q.build(t, testOrigin)
	r.RemoteAddr = "203.0.113.7:50000"
	resp, err := invoke(runtime.NewLambdaHandler(h), r)
	if err != nil {
		t.Fatalf("lambda edge: %v", err)
	}
	return read(t, resp)
}

func invoke(l *runtime.LambdaHandler, r *http.Request) (*http.Response, error) {
	e, err := runtime.EventFromRequest(r)
	if err != nil {
		return nil, err
	}
	var in events.APIGatewayV2HTTPRequest
	if err := roundTripJSON(e, &in); err != nil {
		return nil, err
	}
	out, err := l.Invoke(context.Background(), in)
	if err != nil {
		return nil, err
	}
	var back events.APIGatewayV2HTTPResponse
	if err := roundTripJSON(out, &back); err != nil {
		return nil, err
	}
	return runtime.ResponseFromEvent(back)
}

// roundTripJSON copies v into dst through JSON, as events travel to and
// from the Lambda service.
func roundTripJSON(v, dst any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, dst)
}

func read(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, cookies: resp.Cookies(), body: body}
}

func TestBothEdgesGuaranteeAStatus(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		want     int
		wantBody string
	}{
		{
			name:    "writes nothing",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			want:    http.StatusOK,
		},
		{
			name:    "sets a header but writes nothing",
			handler: func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Note", "quiet") },
			want:    http.StatusOK,
		},
		{
			name:     "writes a body but no status",
			handler:  func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") },
			want:     http.StatusOK,
			wantBody: "hello",
		},
		{
			name:    "writes a status of its own",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) },
			want:    http.StatusNoContent,
		},
	}
	for _, tt := range tests {
		for _, edge := range edges {
			t.Run(tt.name+"/"+edge.name, func(t *testing.T) {
				got := edge.serve(t, httpx.Stack(tt.handler, httpx.Options{}), request{})
				if got.status != tt.want {
					t.Errorf("status: got %d, want %d", got.status, tt.want)
				}
				if string(got.body) != tt.wantBody {
					t.Errorf("body: got %q, want %q", got.body, tt.wantBody)
				}
			})
		}
	}
}

// TestStackIsWhatAbsorbsAMissingStatus shows why the guarantee lives in
// httpx.Stack: the adapter alone fails on a handler that writes nothing.
func TestStackIsWhatAbsorbsAMissingStatus(t *testing.T) {
	silent := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	r := httptest.NewRequest(http.MethodGet, testOrigin+"/", nil)
	e, err := runtime.EventFromRequest(r)
	if err != nil {
		t.Fatal(err)
	}

	_, err = runtime.NewLambdaHandler(silent).Invoke(context.Background(), e)
	if err == nil || !strings.Contains(err.Error(), "Status code not set") {
		t.Errorf("adapter without Stack: got error %v, want \"Status code not set\"", err)
	}

	out, err := runtime.NewLambdaHandler(httpx.Stack(silent, httpx.Options{})).Invoke(context.Background(), e)
	if err != nil {
		t.Fatalf("adapter with Stack: got error %v, want none", err)
	}
	if out.StatusCode != http.StatusOK {
		t.Errorf("adapter with Stack: got status %d, want %d", out.StatusCode, http.StatusOK)
	}
}

func TestBothEdgesHandTheHandlerTheSameRequest(t *testing.T) {
	const userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
	binary := []byte{0xff, 0xfe, 0x00, 0x01, 0x80, 'R', 'I', 'F', 'F', 0xc3}
	tests := []struct {
		name    string
		req     request
		observe func(r *http.Request) string
		want    string
	}{
		{
			name:    "Accept with a comma-separated value",
			req:     request{header: http.Header{"Accept": {"text/html, application/json"}}},
			observe: func(r *http.Request) string { return strings.Join(r.Header.Values("Accept"), " | ") },
			want:    "text/html, application/json",
		},
		{
			name:    "list value without spaces after the commas",
			req:     request{header: http.Header{"If-None-Match": {`"abc","def"`}}},
			observe: func(r *http.Request) string { return strings.Join(r.Header.Values("If-None-Match"), " | ") },
			want:    `"abc","def"`,
		},
		{
			name:    "User-Agent with commas",
			req:     request{header: http.Header{"User-Agent": {userAgent}}},
			observe: func(r *http.Request) string { return strings.Join(r.Header.Values("User-Agent"), " | ") },
			want:    userAgent,
		},
		{
			name: "two cookies",
			req:  request{header: http.Header{"Cookie": {"bandarchive_session=abc; theme=dark"}}},
			observe: func(r *http.Request) string {
				var vals []string
				for _, name := range []string{"bandarchive_session", "theme"} {
					c, err := r.Cookie(name)
					if err != nil {
						return err.Error()
					}
					vals = append(vals, c.Value)
				}
				return strings.Join(vals, " ")
			},
			want: "abc dark",
		},
		{
			name:    "query string",
			req:     request{target: "/api/recordings?q=dat+tape&sort=score&q=1999"},
			observe: func(r *http.Request) string { return r.URL.RawQuery + " " + strings.Join(r.URL.Query()["q"], ",") },
			want:    "q=dat+tape&sort=score&q=1999 dat tape,1999",
		},
		{
			name:    "escaped path",
			req:     request{target: "/api/recordings/live%20at%20the%20caf%C3%A9"},
			observe: func(r *http.Request) string { return r.URL.Path },
			want:    "/api/recordings/live at the café",
		},
		{
			name: "text body",
			req:  request{method: http.MethodPost, body: []byte(`{"email":"ann@example.org"}`)},
			observe: func(r *http.Request) string {
				b, _ := io.ReadAll(r.Body)
				return string(b)
			},
			want: `{"email":"ann@example.org"}`,
		},
		{
			name: "binary body",
			req:  request{method: http.MethodPost, body: binary},
			observe: func(r *http.Request) string {
				b, _ := io.ReadAll(r.Body)
				return hex.EncodeToString(b)
			},
			want: hex.EncodeToString(binary),
		},
	}
	for _, tt := range tests {
		for _, edge := range edges {
			t.Run(tt.name+"/"+edge.name, func(t *testing.T) {
				h := httpx.Stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, tt.observe(r))
				}), httpx.Options{})
				got := edge.serve(t, h, tt.req)
				if got.status != http.StatusOK {
					t.Fatalf("status: got %d, want %d", got.status, http.StatusOK)
				}
				if string(got.body) != tt.want {
					t.Errorf("handler saw %q, want %q", got.body, tt.want)
				}
			})
		}
	}
}

func TestBothEdgesGiveTheClientTheSameResponse(t *testing.T) {
	binary := []byte{0x00, 0xff, 0xfe, 'f', 'L', 'a', 'C', 0x80, 0x81}
	h := httpx.Stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "bandarchive_session", Value: "abc", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark", Path: "/"})
		w.Header().Set("Content-Type", "audio/flac")
		w.Header().Set("X-Note", "a, b")
		w.WriteHeader(http.StatusCreated)
		w.Write(binary)
	}), httpx.Options{})
	for _, edge := range edges {
		t.Run(edge.name, func(t *testing.T) {
			got := edge.serve(t, h, request{})
			if got.status != http.StatusCreated {
				t.Errorf("status: got %d, want %d", got.status, http.StatusCreated)
			}
			if !bytes.Equal(got.body, binary) {
				t.Errorf("body: got %x, want %x", got.body, binary)
			}
			for header, want := range map[string]string{"Content-Type": "audio/flac", "X-Note": "a, b", "X-Content-Type-Options": "nosniff"} {
				if v := got.header.Get(header); v != want {
					t.Errorf("%s: got %q, want %q", header, v, want)
				}
			}
			if got.header.Get("X-Request-Id") == "" {
				t.Error("X-Request-Id: got none, want one")
			}
			cookies := map[string]*http.Cookie{}
			for _, c := range got.cookies {
				cookies[c.Name] = c
			}
			if c := cookies["bandarchive_session"]; c == nil || c.Value != "abc" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie: got %v, want abc, HttpOnly, Secure, SameSite=Lax", c)
			}
			if c := cookies["theme"]; c == nil || c.Value != "dark" {
				t.Errorf("theme cookie: got %v, want dark", c)
			}
		})
	}
}

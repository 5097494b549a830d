package runtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"bandarchive/shared/httpx"
	"bandarchive/shared/runtime"
)

func TestNewServerBoundsHeadersNotBodies(t *testing.T) {
	srv := runtime.NewServer(http.NotFoundHandler())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > time.Minute {
		t.Errorf("ReadHeaderTimeout: got %v, want a short positive bound", srv.ReadHeaderTimeout)
	}
	if srv.ReadTimeout != 0 || srv.WriteTimeout != 0 {
		t.Errorf("ReadTimeout, WriteTimeout: got %v, %v, want none (a 500 MB upload or download on a slow line)", srv.ReadTimeout, srv.WriteTimeout)
	}
	if srv.IdleTimeout <= 0 {
		t.Errorf("IdleTimeout: got %v, want a positive bound", srv.IdleTimeout)
	}
}

// serving is one Serve running in the background on a loopback port.
type serving struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
	client *http.Client
}

func startServe(t *testing.T, h http.Handler, o runtime.Options) *serving {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{addr: l.Addr().String(), cancel: cancel, done: make(chan error, 1), client: &http.Client{Timeout: 10 * time.Second}}
	go func() { s.done <- runtime.Serve(ctx, l, h, o) }()
	t.Cleanup(func() {
		cancel()
		s.client.CloseIdleConnections()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return within 10s of cancel")
		}
	})
	return s
}

// stop cancels Serve and returns what it returned.
func (s *serving) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of cancel")
		return nil
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	var mu sync.Mutex
	var order []string
	note := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, s)
	}
	started, release := make(chan struct{}), make(chan struct{})
	slow := httpx.Stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
		note("request finished")
	}), httpx.Options{})
	s := startServe(t, slow, runtime.Options{
		ShutdownTimeout: 10 * time.Second,
		Drain: func(ctx context.Context) error {
			note("drain")
			return nil
		},
	})

	type result struct {
		status int
		body   string
		err    error
	}
	answered := make(chan result, 1)
	go func() {
		resp, err := s.client.Get("http://" + s.addr + "/slow")
		if err != nil {
			answered <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- result{status: resp.StatusCode, body: string(b), err: err}
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the handler")
	}

	s.cancel()
	// Shutdown has begun once the listener refuses new connections.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts connections 10s after cancel")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		t.Fatalf("Serve returned %v while a request was in flight, want it to wait", err)
	default:
	}

	close(release)
	select {
	case got := <-answered:
		if got.err != nil || got.status != http.StatusOK || got.body != "finished" {
			t.Errorf("in-flight request: got %d %q (err %v), want 200 \"finished\"", got.status, got.body, got.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request got no answer")
	}
	if err := s.stop(t); err != nil {
		t.Errorf("Serve: got %v, want nil", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"request finished", "drain"}; !slices.Equal(order, want) {
		t.Errorf("order: got %q, want %q", order, want)
	}
}

func TestServeReportsDrainFailure(t *testing.T) {
	s := startServe(t, http.NotFoundHandler(), runtime.Options{
		Drain: func(ctx context.Context) error { return errors.New("2 mails still queued") },
	})
	err := s.stop(t)
	if err == nil || !strings.Contains(err.Error(), "2 mails still queued") {
		t.Errorf("got %v, want the drain error", err)
	}
}

func TestServeFailsOnAClosedListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	done := make(chan error, 1)
	go func() { done <- runtime.Serve(context.Background(), l, http.NotFoundHandler(), runtime.Options{}) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("got nil, want an error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestServeInvokeAPI(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.URL.Query().Get("name"))
	})
	h := httpx.Stack(mux, httpx.Options{})

	helloEvent := func(t *testing.T) []byte {
		t.Helper()
		e, err := runtime.EventFromRequest(httptest.NewRequest(http.MethodGet, "https://archive.test/hello?name=tape", nil))
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name      string
		invokeAPI bool
		method    string
		path      string
		body      func(t *testing.T) []byte
		want      int
		check     func(t *testing.T, body []byte)
	}{
		{
			name: "an API Gateway v2 event gets the response event", invokeAPI: true,
			method: http.MethodPost, path: runtime.InvokePath, body: helloEvent, want: http.StatusOK,
			check: func(t *testing.T, body []byte) {
				var out events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(body, &out); err != nil {
					t.Fatalf("decode response event %q: %v", body, err)
				}
				if out.StatusCode != http.StatusOK || out.Body != "hello tape" {
					t.Errorf("response event: got %d %q, want 200 \"hello tape\"", out.StatusCode, out.Body)
				}
				if out.Headers["X-Request-Id"] == "" || out.Headers["X-Frame-Options"] != "DENY" {
					t.Errorf("response event headers: got %v, want the Stack's headers", out.Headers)
				}
			},
		},
		{
			name: "a malformed event is a 400 JSON error", invokeAPI: true,
			method: http.MethodPost, path: runtime.InvokePath,
			body: func(*testing.T) []byte { return []byte(`{"version": "2.0", `) }, want: http.StatusBadRequest,
			check: func(t *testing.T, body []byte) { wantErrorCode(t, body, "invalid") },
		},
		{
			name: "an event that is not v2 is a function error, as on Lambda", invokeAPI: true,
			method: http.MethodPost, path: runtime.InvokePath,
			body: func(*testing.T) []byte { return []byte(`{"httpMethod": "GET", "path": "/hello"}`) }, want: http.StatusOK,
			check: func(t *testing.T, body []byte) {
				var out struct{ ErrorMessage, ErrorType string }
				json.Unmarshal(body, &out)
				if out.ErrorMessage == "" || out.ErrorType != "FunctionError" {
					t.Errorf("got %s, want an errorMessage and errorType FunctionError", body)
				}
			},
		},
		{
			name: "the function is still served directly", invokeAPI: true,
			method: http.MethodGet, path: "/hello?name=cassette", want: http.StatusOK,
			check: func(t *testing.T, body []byte) {
				if string(body) != "hello cassette" {
					t.Errorf("got %q, want \"hello cassette\"", body)
				}
			},
		},
		{
			name: "without InvokeAPI the invoke URL is the function's", invokeAPI: false,
			method: http.MethodPost, path: runtime.InvokePath, body: helloEvent, want: http.StatusNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServe(t, h, runtime.Options{InvokeAPI: tt.invokeAPI})
			var body io.Reader
			if tt.body != nil {
				body = bytes.NewReader(tt.body(t))
			}
			req, err := http.NewRequest(tt.method, "http://"+s.addr+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status: got %d, want %d (body %s)", resp.StatusCode, tt.want, got)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func wantErrorCode(t *testing.T, body []byte, want string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", body, err)
	}
	if e.Error.Code != want || e.Error.Message == "" {
		t.Errorf("error: got code %q message %q, want code %q and a message", e.Error.Code, e.Error.Message, want)
	}
}

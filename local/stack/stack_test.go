package stack_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bandarchive/deploy/nginx"
	"bandarchive/local/stack"
	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
	"bandarchive/shared/httpx"
	"bandarchive/shared/routes"
)

// maxUpload is the stack's MAX_UPLOAD_BYTES: small, so Nginx's limit can
// be crossed cheaply.
const maxUpload = 1 << 20

// TestStack starts one stack (real PostgreSQL, the function binaries as
// processes, real Nginx) and sends everything through Nginx, as a browser
// would; its last subtests stop it.
func TestStack(t *testing.T) {
	if _, err := nginx.Binary(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dbURL := dbtest.NewURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := stack.Start(ctx, stack.Options{
		Env: []string{
			"DATABASE_URL=" + dbURL, "UPLOADS_DIR=" + t.TempDir(), "MAX_UPLOAD_BYTES=" + strconv.Itoa(maxUpload),
			"MAILERSEND_API_TOKEN=", "ADMIN_EMAIL=", "BASE_URL=", "LOG_LEVEL=info",
		},
		Dir:    t.TempDir(),
		Stderr: logWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	t.Logf("the stack answered %s after Start", s.Started.Round(time.Millisecond))
	c := &client{t: t, s: s}

	t.Run("every route reaches its function", func(t *testing.T) {
		c := c.with(t)
		for _, r := range routes.All() {
			resp, _ := c.do(r.Method, nginx.Sample(r.Path), nil, nil)
			id := resp.Header.Get("X-Request-Id")
			got := c.answeredBy(id)
			if got != r.Function {
				t.Errorf("%s %s: answered by %q, want %s", r.Method, r.Path, got, r.Function)
				continue
			}
			if up := c.accessLog(id)["upstream"]; up != "127.0.0.1:"+strconv.Itoa(s.Ports[r.Function]) {
				t.Errorf("%s %s: access log upstream %v, want %s's port %d", r.Method, r.Path, up, r.Function, s.Ports[r.Function])
			}
		}
	})

	t.Run("paths in no route reach no function", func(t *testing.T) {
		c := c.with(t)
		notFoundPage, err := os.ReadFile(filepath.Join("..", "..", "web", routes.NotFoundPage))
		if err != nil {
			t.Fatal(err)
		}
		const (
			nginxOwn = iota // Nginx's own 404
			apiJSON         // the API's JSON 404
			notFound        // the not-found page
		)
		for _, tt := range []struct {
			method, path string
			want         int
		}{
			{"GET", "/api/nothing", apiJSON},
			{"POST", "/api/nothing", apiJSON},
			{"GET", "/auth/whatever", apiJSON},
			{"GET", "/api/recordings/x/y/z", apiJSON},
			{"GET", "/api/recordings/", apiJSON},
			{"GET", "/auth/verify/", apiJSON},
			{"GET", "/_recordings/x/original.wav", nginxOwn},
			{"GET", "/assets/", nginxOwn},
			{"GET", "/assets/nothing.js", nginxOwn},
			{"GET", "/" + routes.NotFoundPage, nginxOwn},
			{"GET", "/index.html", notFound},
			{"GET", "/join/", notFound},
			{"GET", "/nothing", notFound},
			{"GET", "/recordingz", notFound},
			{"GET", "/foo/bar", notFound},
			{"GET", "/recordings/x/extra", notFound},
		} {
			resp, body := c.do(tt.method, tt.path, nil, nil)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: status %d, want 404", tt.method, tt.path, resp.StatusCode)
			}
			isPage := bytes.Equal(body, notFoundPage)
			if tt.want == apiJSON && errorCode(body) != "not_found" {
				t.Errorf("%s %s: body %s, want the JSON not_found error", tt.method, tt.path, body)
			}
			if isPage != (tt.want == notFound) {
				t.Errorf("%s %s: body is web/%s: %v, want %v", tt.method, tt.path, routes.NotFoundPage, isPage, tt.want == notFound)
			}
			if tt.want == notFound {
				if ct, csp := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"); ct != "text/html; charset=utf-8" || csp == "" {
					t.Errorf("%s %s: Content-Type %q, Content-Security-Policy %q; want an HTML page with the security headers", tt.method, tt.path, ct, csp)
				}
			}
			id := resp.Header.Get("X-Request-Id")
			if up := c.accessLog(id)["upstream"]; up != "" {
				t.Errorf("%s %s: sent to %v", tt.method, tt.path, up)
			}
			if f := c.loggedBy(id); f != "" {
				t.Errorf("%s %s: reached %s", tt.method, tt.path, f)
			}
		}
	})

	t.Run("pages are the files of web", func(t *testing.T) {
		c := c.with(t)
		for _, p := range routes.Pages() {
			want, err := os.ReadFile(filepath.Join("..", "..", "web", p.File))
			if err != nil {
				t.Errorf("%s: %v", p.Path, err)
				continue
			}
			resp, body := c.do("GET", nginx.Sample(p.Path), nil, nil)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
				t.Errorf("%s: status %d, %d bytes; want 200 and web/%s (%d bytes)", p.Path, resp.StatusCode, len(body), p.File, len(want))
			}
			if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "text/html; charset=utf-8" || cc != "no-cache" {
				t.Errorf("%s: Content-Type %q, Cache-Control %q; want text/html; charset=utf-8 and no-cache", p.Path, ct, cc)
			}
		}
	})

	t.Run("assets are revalidated", func(t *testing.T) {
		c := c.with(t)
		resp, body := c.do("GET", "/assets/app.css", map[string]string{"Accept-Encoding": "gzip"}, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("app.css: status %d, Content-Encoding %q; want 200, gzip", resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/css; charset=utf-8" {
			t.Errorf("app.css: Content-Type %q", ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("app.css: Cache-Control %q, want no-cache", cc)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" || len(body) == 0 {
			t.Fatalf("app.css: ETag %q, %d bytes", etag, len(body))
		}
		resp, body = c.do("GET", "/assets/app.css", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag}, nil)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("revalidation: status %d, %d bytes; want 304 without a body", resp.StatusCode, len(body))
		}
		resp, _ = c.do("GET", "/favicon.svg", nil, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml; charset=utf-8" {
			t.Errorf("favicon: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})

	t.Run("tokens do not reach the logs", func(t *testing.T) {
		c := c.with(t)
		token := newToken()
		for _, path := range []string{"/auth/verify/" + token, "/auth/join/" + token, "/join/" + token} {
			resp, _ := c.do("GET", path+"?also="+token, nil, nil)
			entry := c.accessLog(resp.Header.Get("X-Request-Id"))
			want := strings.Replace(path, token, "REDACTED", 1)
			if entry["path"] != want {
				t.Errorf("GET %s: access log path %v, want %s", strings.Replace(path, token, "<token>", 1), entry["path"], want)
			}
		}
		for _, name := range append(routes.Functions(), "nginx-access", "nginx-error") {
			if b, _ := os.ReadFile(s.LogFile(name)); bytes.Contains(b, []byte(token)) {
				t.Errorf("%s holds the token", s.LogFile(name))
			}
		}
	})

	t.Run("clients cannot choose their address", func(t *testing.T) {
		c := c.with(t)
		resp, _ := c.do("GET", "/api/me", map[string]string{"X-Real-IP": "203.0.113.7", "X-Forwarded-For": "203.0.113.8"}, nil)
		line := c.functionLog(routes.Session, resp.Header.Get("X-Request-Id"))
		if line["ip"] != "127.0.0.1" {
			t.Errorf("session logged ip %v, want 127.0.0.1 (Nginx's X-Real-IP)", line["ip"])
		}
	})

	t.Run("audio through X-Accel-Redirect", func(t *testing.T) {
		c := c.with(t)
		cookie := signIn(t, dbURL)
		wav := apptest.WAV(20000, 8000)
		form, ct := apptest.Multipart(t, map[string]string{"title": "Rehearsal"}, "rehearsal.wav", wav)
		resp, body := c.do("POST", "/api/upload", map[string]string{"Cookie": cookie, "Content-Type": ct}, form)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		var rec struct{ ID string }
		json.Unmarshal(body, &rec)
		audio := "/api/recordings/" + rec.ID + "/audio"

		resp, body = c.do("GET", audio, map[string]string{"Cookie": cookie, "Range": "bytes=100-199", "Accept-Encoding": "gzip"}, nil)
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, wav[100:200]) {
			t.Fatalf("range: status %d, %d bytes; want 206 and bytes 100-199", resp.StatusCode, len(body))
		}
		for k, want := range map[string]string{
			"Content-Type":     "audio/wav",
			"Content-Range":    "bytes 100-199/" + strconv.Itoa(len(wav)),
			"Content-Encoding": "",
			"Cache-Control":    "private, max-age=86400",
			"X-Accel-Redirect": "",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("range: %s %q, want %q", k, got, want)
			}
		}
		if c.accessLog(resp.Header.Get("X-Request-Id"))["upstream"] != "127.0.0.1:"+strconv.Itoa(s.Ports[routes.Recordings]) {
			t.Errorf("the recordings function did not authorise the range request")
		}

		resp, body = c.do("GET", audio+"?download=1", map[string]string{"Cookie": cookie}, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, wav) ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="rehearsal.wav"`) {
			t.Errorf("download: status %d, %d bytes, Content-Disposition %q", resp.StatusCode, len(body), resp.Header.Get("Content-Disposition"))
		}
		resp, body = c.do("HEAD", audio, map[string]string{"Cookie": cookie}, nil)
		if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(wav)) || len(body) != 0 {
			t.Errorf("HEAD: status %d, Content-Length %d", resp.StatusCode, resp.ContentLength)
		}
		if resp, _ := c.do("GET", audio, nil, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("signed out: status %d, want 401", resp.StatusCode)
		}
	})

	t.Run("Nginx refuses an upload far over the limit", func(t *testing.T) {
		c := c.with(t)
		resp, body := c.do("POST", "/api/upload", map[string]string{"Content-Type": "multipart/form-data; boundary=x"},
			make([]byte, maxUpload+1<<20+1))
		if resp.StatusCode != http.StatusRequestEntityTooLarge || errorCode(body) != "too_large" || !bytes.Contains(body, []byte("at most 1 MB")) {
			t.Errorf("status %d, body %s; want 413 and the JSON too_large error naming 1 MB", resp.StatusCode, body)
		}
		if f := c.loggedBy(resp.Header.Get("X-Request-Id")); f != "" {
			t.Errorf("the body reached %s", f)
		}
	})

	t.Run("a process that dies ends Wait, and Nginx answers for it", func(t *testing.T) {
		syscall.Kill(s.PIDs()[routes.Scores], syscall.SIGKILL)
		errc := make(chan error, 1)
		go func() { errc <- s.Wait() }()
		select {
		case err := <-errc:
			if err == nil || !strings.Contains(err.Error(), "scores exited") {
				t.Errorf("Wait: %v, want scores exited", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Wait did not return after scores was killed")
		}

		// Nginx answers for a function that is down, in the JSON shape,
		// and its error log says so, except where the path holds a token.
		c := c.with(t)
		syscall.Kill(s.PIDs()[routes.Verify], syscall.SIGKILL)
		token := newToken()
		for _, path := range []string{"/api/scores", "/auth/verify/" + token} {
			// The killed process's port closes as the kernel tears it down.
			resp, body := c.do("GET", path, nil, nil)
			for deadline := time.Now().Add(time.Minute); resp.StatusCode != http.StatusServiceUnavailable && time.Now().Before(deadline); {
				resp, body = c.do("GET", path, nil, nil)
			}
			if resp.StatusCode != http.StatusServiceUnavailable || errorCode(body) != "unavailable" {
				t.Errorf("GET %s with its function down: %d %s, want 503 and the JSON unavailable error",
					strings.Replace(path, token, "<token>", 1), resp.StatusCode, body)
			}
		}
		errorLog, _ := os.ReadFile(s.LogFile("nginx-error"))
		if !bytes.Contains(errorLog, []byte("/api/scores")) {
			t.Errorf("Nginx's error log does not mention the failed /api/scores:\n%s", errorLog)
		}
		if bytes.Contains(errorLog, []byte(token)) {
			t.Errorf("Nginx's error log holds the token:\n%s", errorLog)
		}
	})

	t.Run("Stop leaves no process", func(t *testing.T) {
		var pids []int
		for name, pid := range s.PIDs() {
			pids = append(pids, pid)
			if name == "nginx" {
				pids = append(pids, children(t, pid)...)
			}
		}
		if len(pids) < len(routes.Functions())+2 {
			t.Fatalf("pids %v: want every function, Nginx's master and a worker", pids)
		}
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process %d still exists after Stop (%v)", pid, err)
			}
		}
		cancel()
		if err := s.Wait(); err != nil {
			t.Errorf("Wait after the context ended: %v", err)
		}
		if _, err := http.Get(s.URL + routes.HealthPath); err == nil {
			t.Errorf("Nginx still answers after Stop")
		}
	})
}

// client sends requests to the stack's Nginx and checks the headers of
// every answer.
type client struct {
	t *testing.T
	s *stack.Stack
}

func (c *client) with(t *testing.T) *client { return &client{t: t, s: c.s} }

// do sends a request as the archive's own pages would (Origin on writes),
// follows no redirect, and checks the headers every answer must carry.
func (c *client) do(method, path string, header map[string]string, body []byte) (*http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.s.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if method != "GET" && method != "HEAD" {
		req.Header.Set("Origin", c.s.BaseURL)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read the body: %v", method, path, err)
	}
	c.checkHeaders(method+" "+path, resp.Header)
	return resp, b
}

// checkHeaders wants HSTS, the functions' security headers and a request
// id on every answer, each exactly once, and no Nginx version.
func (c *client) checkHeaders(what string, h http.Header) {
	c.t.Helper()
	want := http.Header{}
	httpx.SetSecurityHeaders(want)
	want.Del("Cache-Control") // differs by answer
	want.Set("Strict-Transport-Security", nginx.HSTS)
	for k := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != want.Get(k) {
			c.t.Errorf("%s: %s %q, want it once: %q", what, k, got, want.Get(k))
		}
	}
	if got := h.Values("X-Request-Id"); len(got) != 1 || got[0] == "" {
		c.t.Errorf("%s: X-Request-Id %q, want one", what, got)
	}
	if got := h.Get("Server"); got != "nginx" {
		c.t.Errorf("%s: Server %q, want nginx without a version", what, got)
	}
}

// answeredBy waits for the function whose log holds the request id.
func (c *client) answeredBy(id string) string {
	c.t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if f := c.loggedBy(id); f != "" {
			return f
		}
	}
	return ""
}

// loggedBy returns the function whose log holds the request id, now.
func (c *client) loggedBy(id string) string {
	var found []string
	for _, name := range routes.Functions() {
		if b, _ := os.ReadFile(c.s.LogFile(name)); bytes.Contains(b, []byte(`"request_id":"`+id+`"`)) {
			found = append(found, name)
		}
	}
	if len(found) > 1 {
		c.t.Errorf("request %s reached %v", id, found)
	}
	return strings.Join(found, ",")
}

// accessLog waits for Nginx's access log entry of the request id.
func (c *client) accessLog(id string) map[string]any {
	c.t.Helper()
	return c.waitEntry(c.s.LogFile("nginx-access"), id)
}

// functionLog waits for a function's request log entry of the request id.
func (c *client) functionLog(function, id string) map[string]any {
	c.t.Helper()
	return c.waitEntry(c.s.LogFile(function), id)
}

func (c *client) waitEntry(file, id string) map[string]any {
	c.t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		f, err := os.Open(file)
		if err != nil {
			c.t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var e map[string]any
			if json.Unmarshal(sc.Bytes(), &e) == nil && e["request_id"] == id && (e["msg"] == nil || e["msg"] == "request") {
				f.Close()
				return e
			}
		}
		f.Close()
	}
	c.t.Fatalf("no entry for request %s in %s", id, file)
	return nil
}

// signIn creates a member and a session for them directly in the
// database, and returns the session cookie.
func signIn(t *testing.T, dbURL string) string {
	t.Helper()
	d, err := db.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	u, err := d.CreateUser(t.Context(), "ann@band.example", "Ann", db.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	tok := auth.NewToken()
	if _, err := d.Pool().Exec(t.Context(), `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
		VALUES (gen_random_uuid(), $1, $2, now(), now() + interval '1 day', now())`, tok.Hash(), u.ID); err != nil {
		t.Fatal(err)
	}
	return auth.CookieName + "=" + tok.String()
}

func newToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func errorCode(body []byte) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(body, &e)
	return e.Error.Code
}

// children lists the child processes of pid.
func children(t *testing.T, pid int) []int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(pid) + "/children")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		n, _ := strconv.Atoi(f)
		pids = append(pids, n)
	}
	return pids
}

// logWriter shows the stack's progress in the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestStartRefusesBeforeBuilding checks the mistakes Start reports at
// once, before it builds or starts anything.
func TestStartRefusesBeforeBuilding(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	for _, tt := range []struct {
		name string
		o    stack.Options
		want string
	}{
		{"a taken port", stack.Options{Port: taken}, "is taken"},
		{"a bad upload limit", stack.Options{Env: []string{"MAX_UPLOAD_BYTES=lots"}}, "MAX_UPLOAD_BYTES"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Dir = t.TempDir()
			s, err := stack.Start(t.Context(), tt.o)
			if err == nil {
				s.Stop()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to mention %q", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(tt.o.Dir, "bin")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Start built the functions anyway")
			}
		})
	}
}

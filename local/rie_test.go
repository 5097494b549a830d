package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/jackc/pgx/v5"

	"bandarchive/shared/app"
	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
	"bandarchive/shared/pages"
	"bandarchive/shared/routes"
	"bandarchive/shared/runtime"
)

// emulated is one function binary running under the AWS Lambda runtime
// interface emulator (a tool dependency in go.mod), which sets
// AWS_LAMBDA_RUNTIME_API, so the binary takes the Lambda edge.
type emulated struct {
	t       *testing.T
	bin     string // the folder of the function's binary and the emulator's
	url     string // the emulator's invoke URL
	logs    *bytes.Buffer
	session string // a live session of the seeded admin (emulate)
}

// emulate builds function and runs it under the emulator against a fresh,
// migrated database with an admin signed in; env is added to its
// environment.
func emulate(t *testing.T, function string, env ...string) *emulated {
	t.Helper()
	url := migratedURL(t)
	database, err := db.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close()
	session := auth.NewToken()
	if _, err := database.Pool().Exec(t.Context(), `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
		SELECT gen_random_uuid(), $1, id, now(), now() + interval '1 hour', now() FROM users`, session.Hash()); err != nil {
		t.Fatal(err)
	}
	e := runEmulated(t, function, append([]string{"DATABASE_URL=" + url, "BASE_URL=http://localhost:8080", "MAILERSEND_API_TOKEN=", "LOG_LEVEL=info"}, env...)...)
	e.session = session.String()
	return e
}

// migratedURL is a fresh database, migrated, with admin@localhost.test
// its first admin.
func migratedURL(t *testing.T) string {
	t.Helper()
	url := dbtest.NewURL(t)
	database, err := db.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close()
	if err := database.MigrateAndSeed(t.Context(), "admin@localhost.test", app.NewLogger(io.Discard, slog.LevelInfo)); err != nil {
		t.Fatal(err)
	}
	return url
}

// runEmulated builds function and runs it under the emulator with env
// as the only configuration: the test's own environment goes in without
// DATABASE_URL, so a function reaches a database only when env names one.
func runEmulated(t *testing.T, function string, env ...string) *emulated {
	t.Helper()
	bin := t.TempDir()
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin+"/", "./functions/"+function,
		"github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	invokePort, apiPort := freePort(t), freePort(t)
	rie := exec.Command(filepath.Join(bin, "aws-lambda-rie"),
		"--runtime-interface-emulator-address", "127.0.0.1:"+invokePort,
		"--runtime-api-address", "127.0.0.1:"+apiPort,
		filepath.Join(bin, function))
	logs := &bytes.Buffer{}
	rie.Stdout, rie.Stderr = logs, logs
	rie.Env = append(withoutDatabase(os.Environ()), env...)
	if err := rie.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rie.Process.Kill(); rie.Wait() })
	return &emulated{t: t, bin: bin, url: "http://127.0.0.1:" + invokePort + runtime.InvokePath, logs: logs}
}

// withoutDatabase is environ less DATABASE_URL.
func withoutDatabase(environ []string) []string {
	return slices.DeleteFunc(slices.Clone(environ), func(kv string) bool { return strings.HasPrefix(kv, "DATABASE_URL=") })
}

// invokeRaw sends one payload, any JSON, and returns what the function
// answered (or the emulator's error object, for a function error).
func (e *emulated) invokeRaw(payload []byte) []byte {
	e.t.Helper()
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(time.Minute); ; {
		resp, err = http.Post(e.url, "application/json", bytes.NewReader(payload))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the emulator is still starting
	}
	if err != nil {
		e.t.Fatalf("invoke: %v\n%s", err, e.logs.String())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("invoke: %v\n%s", err, e.logs.String())
	}
	return body
}

// invoke sends one API Gateway v2 event and returns the response event.
func (e *emulated) invoke(raw []byte) events.APIGatewayV2HTTPResponse {
	e.t.Helper()
	body := e.invokeRaw(raw)
	var out events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(body, &out); err != nil || out.StatusCode == 0 {
		e.t.Fatalf("the emulator did not answer a response event (%v): %s\n%s", err, body, e.logs.String())
	}
	return out
}

// invokeFile sends a committed event, with cookie for its placeholder.
func (e *emulated) invokeFile(eventFile, cookie string) events.APIGatewayV2HTTPResponse {
	e.t.Helper()
	raw, err := os.ReadFile(eventFile)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.invoke(bytes.ReplaceAll(raw, []byte(placeholderCookie), []byte(cookie)))
}

// invokeRequest sends r as the admin, turned into an event as API Gateway
// turns a request into one.
func (e *emulated) invokeRequest(r *http.Request) events.APIGatewayV2HTTPResponse {
	e.t.Helper()
	r.Header.Set("Origin", "http://localhost:8080")
	r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: e.session})
	return e.invokeAnonymous(r)
}

// invokeAnonymous sends r as it is, turned into an event as API Gateway
// turns a request into one.
func (e *emulated) invokeAnonymous(r *http.Request) events.APIGatewayV2HTTPResponse {
	e.t.Helper()
	r.RemoteAddr = "127.0.0.1:50000"
	ev, err := runtime.EventFromRequest(r)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.invoke(raw)
}

// TestUnderTheLambdaRuntimeEmulator runs a function binary as Lambda does;
// the committed events go in through the emulator's invoke URL.
func TestUnderTheLambdaRuntimeEmulator(t *testing.T) {
	e := emulate(t, "session")
	tests := []struct {
		event, cookie string
		want          int
		wantBody      string
	}{
		{"events/session/healthz.json", "", 200, `"ok"`},
		{"events/session/me.json", placeholderCookie, 401, `"unauthorized"`},
		{"events/session/me.json", e.session, 200, `admin@localhost.test`},
		{"events/session/logout.json", e.session, 204, ""},
		{"events/session/me.json", e.session, 401, `"unauthorized"`},
	}
	for i, tt := range tests {
		got := e.invokeFile(tt.event, tt.cookie)
		if got.StatusCode != tt.want || !strings.Contains(got.Body, tt.wantBody) {
			t.Errorf("%d %s: %d %q, want %d containing %q", i, tt.event, got.StatusCode, got.Body, tt.want, tt.wantBody)
		}
		if got.Headers["X-Request-Id"] == "" || got.Headers["X-Content-Type-Options"] != "nosniff" {
			t.Errorf("%d %s: headers %v lack the request id or security headers", i, tt.event, got.Headers)
		}
		if tt.event == "events/session/logout.json" && (len(got.Cookies) != 1 || !strings.Contains(got.Cookies[0], "Max-Age=0")) {
			t.Errorf("logout: cookies %v, want one that clears the session", got.Cookies)
		}
	}
	if !strings.Contains(e.logs.String(), `"function":"session"`) {
		t.Errorf("the function's own log did not reach the emulator's output:\n%s", e.logs.String())
	}
}

// TestResumableUploadUnderTheLambdaRuntimeEmulator uploads a recording
// larger than Lambda's 6 MB payload in chunks of at most 4 MiB, the upload
// function's limit there, each one event through the emulator.
func TestResumableUploadUnderTheLambdaRuntimeEmulator(t *testing.T) {
	e := emulate(t, "upload", "UPLOADS_DIR="+t.TempDir())
	content := apptest.WAV(3_500_000, 44100) // 7 MB
	req, _ := http.NewRequest("POST", "http://localhost:8080/api/uploads", nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(len(content)))
	req.Header.Set("Upload-Metadata", apptest.TusMetadata(map[string]string{"filename": "gig.wav"}))
	created := e.invokeRequest(req)
	location := created.Headers["Location"]
	if created.StatusCode != http.StatusCreated || location == "" {
		t.Fatalf("create: %d %v %s", created.StatusCode, created.Headers, created.Body)
	}
	patch := func(offset, n int) events.APIGatewayV2HTTPResponse {
		req, _ := http.NewRequest("PATCH", "http://localhost:8080"+location, bytes.NewReader(content[offset:offset+n]))
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Upload-Offset", strconv.Itoa(offset))
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		return e.invokeRequest(req)
	}
	if tooBig := patch(0, 4<<20+1); tooBig.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a chunk over 4 MiB on Lambda: %d %s, want 413", tooBig.StatusCode, tooBig.Body)
	}
	var last events.APIGatewayV2HTTPResponse
	chunks := 0
	for off := 0; off < len(content); off += 3 << 20 {
		last = patch(off, min(3<<20, len(content)-off))
		chunks++
		if last.StatusCode != http.StatusNoContent {
			t.Fatalf("chunk at %d: %d %s", off, last.StatusCode, last.Body)
		}
	}
	if chunks < 3 || last.Headers["Recording-Id"] == "" || last.Headers["Upload-Offset"] != strconv.Itoa(len(content)) {
		t.Fatalf("after %d chunks: headers %v, want the Recording-Id of a complete upload", chunks, last.Headers)
	}
}

// TestPagesUnderTheLambdaRuntimeEmulator runs the pages function as Lambda
// does, with no DATABASE_URL at all: every page of the table and the
// static files answer with the bytes of their files in web/, /healthz
// answers, and anything else is a JSON 404.
func TestPagesUnderTheLambdaRuntimeEmulator(t *testing.T) {
	e := runEmulated(t, pages.Function, "BASE_URL=http://localhost:8080", "LOG_LEVEL=info")
	get := func(path string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		return e.invokeAnonymous(httptest.NewRequest("GET", "http://localhost:8080"+path, nil))
	}
	files := map[string]string{"/assets/app.css": "assets/app.css", "/assets/archive.js": "assets/archive.js", "/favicon.svg": "favicon.svg"}
	for _, p := range routes.Pages() {
		path := strings.NewReplacer("{$}", "", "{token}", "abc", "{id}", "abc").Replace(p.Path)
		files[path] = p.File
	}
	for path, file := range files {
		want, err := os.ReadFile(filepath.Join("..", "web", filepath.FromSlash(file)))
		if err != nil {
			t.Fatal(err)
		}
		got := get(path)
		if got.StatusCode != 200 || got.Body != string(want) || got.IsBase64Encoded {
			t.Errorf("GET %s: %d, %d bytes (base64 %v); want 200 and web/%s (%d bytes)", path, got.StatusCode, len(got.Body), got.IsBase64Encoded, file, len(want))
		}
		if got.Headers["Cache-Control"] != "no-cache" || got.Headers["Etag"] == "" || got.Headers["X-Content-Type-Options"] != "nosniff" {
			t.Errorf("GET %s: headers %v, want Cache-Control no-cache, an ETag and the security headers", path, got.Headers)
		}
	}
	if got := get("/healthz"); got.StatusCode != 200 || !strings.Contains(got.Body, `"ok"`) {
		t.Errorf("GET /healthz: %d %s, want 200 ok without a database", got.StatusCode, got.Body)
	}
	// Under a catch-all route every other path reaches the function: the
	// API's paths get the JSON 404, a person's the not-found page.
	for _, path := range []string{"/api/me", "/api/nothing", "/auth/nothing", "/assets/"} {
		if got := get(path); got.StatusCode != 404 || !strings.Contains(got.Body, `"not_found"`) {
			t.Errorf("GET %s: %d %s, want a JSON 404", path, got.StatusCode, got.Body)
		}
	}
	notFound, err := os.ReadFile(filepath.Join("..", "web", routes.NotFoundPage))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/nothing", "/index.html", "/recordingz", "/foo/bar"} {
		if got := get(path); got.StatusCode != 404 || got.Body != string(notFound) || got.Headers["Content-Type"] != "text/html; charset=utf-8" {
			t.Errorf("GET %s: %d %v %q, want 404 and web/%s", path, got.StatusCode, got.Headers, got.Body, routes.NotFoundPage)
		}
	}
	if !strings.Contains(e.logs.String(), `"function":"pages"`) {
		t.Errorf("the function's own log did not reach the emulator's output:\n%s", e.logs.String())
	}
}

// TestMigrateUnderTheLambdaRuntimeEmulator runs the migrate function as
// `sam remote invoke MigrateFunction` does, on an empty database: any JSON
// event migrates the schema and seeds ADMIN_EMAIL, and the answer gives
// the versions; a second invocation finds nothing to do. A database that
// cannot be reached is a function error naming it. Self-hosted the same
// binary migrates once and exits.
func TestMigrateUnderTheLambdaRuntimeEmulator(t *testing.T) {
	marks, err := db.Marks()
	if err != nil {
		t.Fatal(err)
	}
	latest := marks[len(marks)-1].Version
	url := dbtest.NewURL(t)
	e := runEmulated(t, "migrate", "DATABASE_URL="+url, "ADMIN_EMAIL=First.Admin@Example.org", "LOG_LEVEL=info")
	result := func(payload string) (from, to int32) {
		t.Helper()
		body := e.invokeRaw([]byte(payload))
		var r struct{ From, To *int32 }
		if err := json.Unmarshal(body, &r); err != nil || r.From == nil || r.To == nil {
			t.Fatalf("invoke %s: %s, want {\"from\": n, \"to\": m}\n%s", payload, body, e.logs.String())
		}
		return *r.From, *r.To
	}
	if from, to := result(`{"source": "sam remote invoke"}`); from != 0 || to != latest {
		t.Errorf("first invocation: from %d to %d, want from 0 to %d", from, to, latest)
	}
	database, err := db.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close()
	if err := database.CheckSchema(t.Context()); err != nil {
		t.Errorf("after the invocation: %v", err)
	}
	admins := func() []string {
		t.Helper()
		rows, err := database.Pool().Query(t.Context(), `SELECT email || ' ' || role FROM users ORDER BY email`)
		if err != nil {
			t.Fatal(err)
		}
		users, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return users
	}
	if got := admins(); !slices.Equal(got, []string{"first.admin@example.org admin"}) {
		t.Errorf("users %q, want the seeded admin alone", got)
	}
	if from, to := result(`[]`); from != latest || to != latest {
		t.Errorf("second invocation: from %d to %d, want %d to %d", from, to, latest, latest)
	}
	if got := admins(); len(got) != 1 {
		t.Errorf("after a second invocation, users %q, want the one admin", got)
	}

	away := runEmulated(t, "migrate", "DATABASE_URL=postgres://postgres@127.0.0.1:"+freePort(t)+"/none?connect_timeout=2", "LOG_LEVEL=info")
	if body := string(away.invokeRaw([]byte(`{}`))); !strings.Contains(body, "errorMessage") || !strings.Contains(body, "connect to database") {
		t.Errorf("with the database away: %s, want a function error naming the database", body)
	}

	self := exec.Command(filepath.Join(e.bin, "migrate"))
	self.Env = append(withoutDatabase(os.Environ()), "DATABASE_URL="+dbtest.NewURL(t), "ADMIN_EMAIL=admin@localhost.test")
	var stderr bytes.Buffer
	self.Stderr = &stderr
	out, err := self.Output()
	if want := fmt.Sprintf(`{"from":0,"to":%d}`, latest); err != nil || strings.TrimSpace(string(out)) != want {
		t.Errorf("self-hosted: %v, printed %q, want %s\n%s", err, out, want, stderr.String())
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

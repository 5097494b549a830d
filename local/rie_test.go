package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"bandarchive/shared/app"
	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
	"bandarchive/shared/runtime"
)

// emulated is one function binary running under the AWS Lambda runtime
// interface emulator (a tool dependency in go.mod), which sets
// AWS_LAMBDA_RUNTIME_API, so the binary takes the Lambda edge.
type emulated struct {
	t       *testing.T
	url     string // the emulator's invoke URL
	logs    *bytes.Buffer
	session string // a live session of the seeded admin
}

// emulate builds function and runs it under the emulator against a fresh,
// migrated database with an admin signed in; env is added to its
// environment.
func emulate(t *testing.T, function string, env ...string) *emulated {
	t.Helper()
	bin := t.TempDir()
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin+"/", "./functions/"+function,
		"github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	url := dbtest.NewURL(t)
	database, err := db.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close()
	if err := database.MigrateAndSeed(t.Context(), "admin@localhost.test", app.NewLogger(io.Discard, slog.LevelInfo)); err != nil {
		t.Fatal(err)
	}
	session := auth.NewToken()
	if _, err := database.Pool().Exec(t.Context(), `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
		SELECT gen_random_uuid(), $1, id, now(), now() + interval '1 hour', now() FROM users`, session.Hash()); err != nil {
		t.Fatal(err)
	}

	invokePort, apiPort := freePort(t), freePort(t)
	rie := exec.Command(filepath.Join(bin, "aws-lambda-rie"),
		"--runtime-interface-emulator-address", "127.0.0.1:"+invokePort,
		"--runtime-api-address", "127.0.0.1:"+apiPort,
		filepath.Join(bin, function))
	logs := &bytes.Buffer{}
	rie.Stdout, rie.Stderr = logs, logs
	rie.Env = append(append(os.Environ(), "DATABASE_URL="+url, "BASE_URL=http://localhost:8080", "MAILERSEND_API_TOKEN=", "LOG_LEVEL=info"), env...)
	if err := rie.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rie.Process.Kill(); rie.Wait() })
	return &emulated{t: t, url: "http://127.0.0.1:" + invokePort + runtime.InvokePath, logs: logs, session: session.String()}
}

// invoke sends one API Gateway v2 event and returns the response event.
func (e *emulated) invoke(raw []byte) events.APIGatewayV2HTTPResponse {
	e.t.Helper()
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(time.Minute); ; {
		resp, err = http.Post(e.url, "application/json", bytes.NewReader(raw))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the emulator is still starting
	}
	if err != nil {
		e.t.Fatalf("invoke: %v\n%s", err, e.logs.String())
	}
	defer resp.Body.Close()
	var out events.APIGatewayV2HTTPResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.StatusCode == 0 {
		e.t.Fatalf("the emulator did not answer a response event (%v): %s", err, e.logs.String())
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

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

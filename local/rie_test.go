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
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"bandarchive/shared/app"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
)

// TestUnderTheLambdaRuntimeEmulator runs a function binary as Lambda does:
// under the AWS Lambda runtime interface emulator (a tool dependency in
// go.mod), which sets AWS_LAMBDA_RUNTIME_API, so the binary takes the
// Lambda edge. The committed events go in through the emulator's invoke URL.
func TestUnderTheLambdaRuntimeEmulator(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin+"/", "./functions/session",
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
		filepath.Join(bin, "session"))
	var logs bytes.Buffer
	rie.Stdout, rie.Stderr = &logs, &logs
	rie.Env = append(os.Environ(), "DATABASE_URL="+url, "BASE_URL=http://localhost:8080", "MAILERSEND_API_TOKEN=", "LOG_LEVEL=info")
	if err := rie.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rie.Process.Kill(); rie.Wait() })

	invoke := func(eventFile, cookie string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		raw, err := os.ReadFile(eventFile)
		if err != nil {
			t.Fatal(err)
		}
		raw = bytes.ReplaceAll(raw, []byte(placeholderCookie), []byte(cookie))
		var resp *http.Response
		for deadline := time.Now().Add(15 * time.Second); ; {
			resp, err = http.Post("http://127.0.0.1:"+invokePort+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(raw))
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("invoke: %v\n%s", err, logs.String())
		}
		defer resp.Body.Close()
		var out events.APIGatewayV2HTTPResponse
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.StatusCode == 0 {
			t.Fatalf("the emulator did not answer a response event (%v): %s", err, logs.String())
		}
		return out
	}
	tests := []struct {
		event, cookie string
		want          int
		wantBody      string
	}{
		{"events/session/healthz.json", "", 200, `"ok"`},
		{"events/session/me.json", placeholderCookie, 401, `"unauthorized"`},
		{"events/session/me.json", session.String(), 200, `admin@localhost.test`},
		{"events/session/logout.json", session.String(), 204, ""},
		{"events/session/me.json", session.String(), 401, `"unauthorized"`},
	}
	for i, tt := range tests {
		got := invoke(tt.event, tt.cookie)
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
	if !strings.Contains(logs.String(), `"function":"session"`) {
		t.Errorf("the function's own log did not reach the emulator's output:\n%s", logs.String())
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

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
	"bandarchive/shared/pages"
	"bandarchive/shared/routes"
)

func TestEveryFunctionHasABuilder(t *testing.T) {
	have, want := functions.Names(), routes.Functions()
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Fatalf("builders for %v, route table functions %v", have, want)
	}
}

// TestServeRoutesExactlyTheTable sends every route of the table, and a few
// paths that are in no row, to the dev server's mux and checks which
// function answered (each function's mux answers only its own rows).
func TestServeRoutesExactlyTheTable(t *testing.T) {
	h := apptest.New(t, apptest.HTTP, all, apptest.Options{})
	for _, r := range routes.All() {
		path := strings.NewReplacer("{token}", "x", "{id}", "x", "{recording_id}", "x").Replace(r.Path)
		got := h.Do(apptest.NewRequest(t, r.Method, path, nil))
		if got.Status == http.StatusNotFound && strings.Contains(string(got.Body), "There is nothing at") ||
			got.Status == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: no function answered (%d %s)", r.Method, path, got.Status, got.Body)
		}
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/auth/send-link"}, {"PUT", "/api/me"}, {"GET", "/api/nothing"}, {"POST", "/healthz"},
	} {
		got := h.Do(apptest.NewRequest(t, c.method, c.path, nil))
		if got.Status != http.StatusNotFound && got.Status != http.StatusMethodNotAllowed || got.ErrorCode() == "" {
			t.Errorf("%s %s: %d %s, want a JSON 404 or 405", c.method, c.path, got.Status, got.Body)
		}
	}
}

// placeholderCookie is what committed events carry where a session goes.
const placeholderCookie = "PASTE-YOUR-SESSION-COOKIE"

// TestInvokeCommittedEvents runs `local invoke` with every event in
// local/events against a fresh database, as a developer would: as
// committed (no real session), and with the placeholder replaced by a
// real admin session.
func TestInvokeCommittedEvents(t *testing.T) {
	url := dbtest.NewURL(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("BASE_URL", "http://localhost:8080")
	t.Setenv("ADMIN_EMAIL", "admin@localhost.test")
	t.Setenv("MAILERSEND_API_TOKEN", "")
	t.Setenv("UPLOADS_DIR", t.TempDir())
	var stderr bytes.Buffer
	ctx := context.Background()
	if err := run(ctx, []string{"migrate"}, nil, &stderr, &stderr); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr.String())
	}
	database, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close()
	// Expected statuses: as committed, and signed in as the admin. The
	// sample ids and tokens name nothing, hence the 404s.
	want := map[string][2]int{
		"send-link/send-link.json":    {202, 202},
		"verify/confirm-page.json":    {404, 404}, // the sample token is unknown: the spent-link page
		"verify/sign-in.json":         {404, 404},
		"session/me.json":             {401, 200},
		"session/logout.json":         {204, 204},
		"session/account.json":        {401, 200},
		"session/rename.json":         {401, 200},
		"session/signout-one.json":    {401, 404}, // the sample id names no session
		"session/signout-others.json": {401, 200},
		"invites/create.json":         {401, 201},
		"invites/list.json":           {401, 200},
		"invites/revoke.json":         {401, 404},
		"invites/join-check.json":     {404, 404},
		"invites/join.json":           {404, 404},
		"upload/upload.json":          {401, 201},
		"upload/tus-options.json":     {401, 204},
		"upload/tus-create.json":      {401, 201},
		"upload/tus-head.json":        {401, 404}, // the sample upload id names nothing
		"upload/tus-patch.json":       {401, 404},
		"upload/tus-delete.json":      {401, 404},
		"recordings/list.json":        {401, 200},
		"recordings/detail.json":      {401, 404},
		"recordings/edit.json":        {401, 404},
		"recordings/delete.json":      {401, 404},
		"recordings/audio-range.json": {401, 404},
		"recordings/download.json":    {401, 404},
		"recordings/listen.json":      {401, 404},
		"recordings/process.json":     {401, 404},
		"scores/ranking.json":         {401, 200},
		"scores/set.json":             {401, 404},
		"scores/clear.json":           {401, 404},
		"band/list.json":              {401, 200},
		"band/change.json":            {401, 404}, // the sample id names nobody
	}
	files, _ := filepath.Glob("events/*/*.json")
	covered := map[string]bool{}
	for _, f := range files {
		rel := strings.TrimPrefix(f, "events/")
		function := filepath.Dir(rel)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		statuses, ok := want[rel]
		if filepath.Base(rel) == "healthz.json" {
			statuses, ok = [2]int{200, 200}, true
		}
		if !ok {
			t.Errorf("no expected status for %s: add it to this test", rel)
			continue
		}
		for i, signedIn := range []bool{false, true} {
			name := rel
			event := raw
			if signedIn {
				if !bytes.Contains(raw, []byte(placeholderCookie)) {
					continue
				}
				name += " signed in"
				tok := auth.NewToken()
				if _, err := database.Pool().Exec(ctx, `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
					SELECT gen_random_uuid(), $1, id, now(), now() + interval '1 hour', now() FROM users`, tok.Hash()); err != nil {
					t.Fatal(err)
				}
				event = bytes.ReplaceAll(raw, []byte(placeholderCookie), []byte(tok.String()))
			}
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "event.json")
				os.WriteFile(path, event, 0o600)
				var out bytes.Buffer
				stderr.Reset()
				if err := run(ctx, []string{"invoke", function, path}, nil, &out, &stderr); err != nil {
					t.Fatalf("invoke: %v\n%s", err, stderr.String())
				}
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
					t.Fatalf("output is not a response event: %v\n%s", err, out.String())
				}
				if resp.StatusCode != statuses[i] {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, statuses[i], resp.Body)
				}
				if resp.Headers["X-Request-Id"] == "" {
					t.Errorf("no X-Request-Id in %v", resp.Headers)
				}
			})
		}
		var e events.APIGatewayV2HTTPRequest
		json.Unmarshal(raw, &e)
		for _, r := range routes.For(function) {
			req := httptest.NewRequest(e.RequestContext.HTTP.Method, e.RawPath, nil)
			mux := http.NewServeMux()
			mux.HandleFunc(r.Pattern(), func(http.ResponseWriter, *http.Request) {})
			if _, p := mux.Handler(req); p == r.Pattern() {
				covered[r.Pattern()] = true
			}
		}
	}
	for _, r := range routes.All() {
		if !covered[r.Pattern()] {
			t.Errorf("no event in local/events for %s (%s)", r.Pattern(), r.Function)
		}
	}
}

// TestInvokeRefusesUnknownFunction checks the error names the functions.
func TestInvokeRefusesUnknownFunction(t *testing.T) {
	t.Setenv("DATABASE_URL", dbtest.NewURL(t))
	t.Setenv("BASE_URL", "http://localhost:8080")
	var out, stderr bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, nil, &out, &stderr); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"invoke", "nope", "events/verify/healthz.json"}, nil, &out, &stderr)
	if err == nil || !strings.Contains(err.Error(), "send-link") {
		t.Fatalf("err = %v, want one naming the known functions", err)
	}
	if err := run(context.Background(), []string{"invoke"}, nil, &out, &stderr); err != errUsage {
		t.Fatalf("invoke without arguments: %v, want usage", err)
	}
}

func TestDevServerServesThePages(t *testing.T) {
	h := apptest.New(t, apptest.HTTP, functions.Mount(pages.Handler(os.DirFS("../web"))), apptest.Options{})
	tests := []struct {
		path, wantIn string
		want         int
	}{
		{"/", `data-page="archive"`, 200},
		{"/login", `id="send-link"`, 200},
		{"/join/abc", `src="/assets/join.js"`, 200},
		{"/recordings/abc", `data-page="recording"`, 200},
		{"/upload", `id="dropzone"`, 200},
		{"/admin/invites", `id="create-invite"`, 200},
		{"/assets/app.css", ".link-page", 200},
		{"/favicon.svg", "<svg", 200},
		{"/assets/", `"not_found"`, 404},
		{"/api/nothing", `"not_found"`, 404},
		{"/auth/nothing", `"not_found"`, 404},
		{"/index.html", "<h1>Page not found</h1>", 404},
		{"/recordings/abc/extra", "<h1>Page not found</h1>", 404},
		{"/recordingz", "<h1>Page not found</h1>", 404},
		{"/foo/bar", "<h1>Page not found</h1>", 404},
	}
	for _, tt := range tests {
		r := h.Do(apptest.NewRequest(t, "GET", tt.path, nil))
		if r.Status != tt.want || !strings.Contains(string(r.Body), tt.wantIn) {
			t.Errorf("GET %s: %d, want %d containing %q", tt.path, r.Status, tt.want, tt.wantIn)
		}
	}
}

// TestInvokeWorkerMailsWhatSendLinkQueued: invoked alone, send-link only
// queues the mail; invoking the worker (any event, as on Lambda) delivers
// it, here through the dev mailer into the log.
func TestInvokeWorkerMailsWhatSendLinkQueued(t *testing.T) {
	t.Setenv("DATABASE_URL", dbtest.NewURL(t))
	t.Setenv("BASE_URL", "http://localhost:8080")
	t.Setenv("ADMIN_EMAIL", "admin@localhost.test")
	t.Setenv("MAILERSEND_API_TOKEN", "")
	t.Setenv("UPLOADS_DIR", t.TempDir())
	ctx := context.Background()
	var out, stderr bytes.Buffer
	if err := run(ctx, []string{"migrate"}, nil, &out, &stderr); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr.String())
	}
	if err := run(ctx, []string{"invoke", "send-link", "events/send-link/send-link.json"}, nil, &out, &stderr); err != nil {
		t.Fatalf("invoke send-link: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "dev mail") {
		t.Fatalf("send-link mailed by itself:\n%s", stderr.String())
	}
	out.Reset()
	if err := run(ctx, []string{"invoke", "worker", "-"}, strings.NewReader(`{"source": "local"}`), &out, &stderr); err != nil {
		t.Fatalf("invoke worker: %v\n%s", err, stderr.String())
	}
	if strings.TrimSpace(out.String()) != "null" || !strings.Contains(stderr.String(), "dev mail (not sent)") ||
		!strings.Contains(stderr.String(), "/auth/verify/") {
		t.Fatalf("the worker printed %q; its log has no mailed link:\n%s", out.String(), stderr.String())
	}
	// And the link once more, on a plain line a terminal makes clickable:
	// the very link of the mail, exactly once.
	var lines []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(l, "Sign in: ") {
			lines = append(lines, strings.TrimPrefix(l, "Sign in: "))
		}
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "http://localhost:8080/auth/verify/") ||
		!strings.Contains(stderr.String(), `"text":"`) || !strings.Contains(stderr.String(), lines[0]+`\n`) {
		t.Fatalf("printed the links %q, want the mail's one link once:\n%s", lines, stderr.String())
	}
}

// Package apptest runs a function's handler in tests exactly as production
// does, on both edges: each scenario runs once behind a real net/http server
// and once as API Gateway v2 events through the Lambda adapter, against a
// fresh PostgreSQL schema and the fake Mailersend, so both edges are held to
// the same answers.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"bandarchive/shared/app"
	"bandarchive/shared/config"
	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
	"bandarchive/shared/limits"
	"bandarchive/shared/mail"
	"bandarchive/shared/mail/mailersendfake"
	"bandarchive/shared/media"
	"bandarchive/shared/runtime"
	"bandarchive/shared/storage"
)

// BaseURL is the public origin of every test archive.
const BaseURL = "https://archive.test"

// Edge names.
const (
	HTTP   = "http"
	Lambda = "lambda"
)

// Harness is one archive under test.
type Harness struct {
	T     testing.TB
	Edge  string
	Parts *app.Parts
	DB    *db.DB
	Mail  *mailersendfake.Server
	Clock *Clock
	Logs  *Buffer
	// Queries counts the SQL statements the archive sends.
	Queries *QueryCounter

	handler http.Handler // the function(s) with the shared middleware
	server  *httptest.Server
}

// Options adjust a harness before the handler is built.
type Options struct {
	// Configure edits the configuration (uploads dir, limits).
	Configure func(*config.Config)
}

// Both runs test once per edge, each with a fresh harness.
func Both(t *testing.T, build app.Builder, test func(t *testing.T, h *Harness)) {
	BothWith(t, build, Options{}, test)
}

// BothWith is Both with options.
func BothWith(t *testing.T, build app.Builder, o Options, test func(t *testing.T, h *Harness)) {
	for _, edge := range []string{HTTP, Lambda} {
		t.Run(edge, func(t *testing.T) { test(t, New(t, edge, build, o)) })
	}
}

// New builds a harness for one edge.
func New(t testing.TB, edge string, build app.Builder, o Options) *Harness {
	t.Helper()
	h := &Harness{T: t, Edge: edge, Mail: mailersendfake.New(t), Logs: &Buffer{}, Queries: &QueryCounter{}}
	url := dbtest.NewURL(t)
	h.DB = dbtest.OpenMigrated(t, url, db.WithTracer(h.Queries))
	h.Clock = NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	cfg := config.Config{
		BaseURL: BaseURL, AppName: "bandarchive", CookieSecure: true, Port: "0",
		LogLevel: slog.LevelDebug, ClientIPHeader: "X-Real-Ip",
		Mail: config.Mail{APIToken: h.Mail.Token, APIURL: h.Mail.URL, From: "archive@archive.test", FromName: "Archive"},
		Storage: config.Storage{UploadsDir: t.TempDir(), MaxUploadBytes: limits.DefaultMaxUploadBytes,
			MaxChunkBytes: limits.DefaultMaxChunkBytes, SweepInterval: time.Minute},
	}
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	if edge == Lambda {
		cfg.LambdaRuntimeAPI = "127.0.0.1:9001" // as a Lambda runtime sets it: work runs before the answer
	}
	log := app.NewLogger(h.Logs, slog.LevelDebug)
	sender := mail.NewMailersend(mail.MailersendConfig{
		APIURL: cfg.Mail.APIURL, Token: cfg.Mail.APIToken, From: cfg.Mail.From, FromName: cfg.Mail.FromName,
		Logger: log, Budget: 5 * time.Second, AttemptTimeout: 2 * time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error { return nil },
	})
	h.Parts = app.NewParts(cfg, h.DB, log, sender, h.Clock.Now)
	t.Cleanup(h.Parts.Stop)
	h.startWorker(cfg, url)
	fn, err := build(h.Parts)
	if err != nil {
		t.Fatalf("build handler: %v", err)
	}
	h.handler = h.Parts.Wrap(fn)
	if edge == HTTP {
		h.server = httptest.NewServer(h.handler)
		t.Cleanup(h.server.Close)
	}
	return h
}

// startWorker runs the job queue's worker beside the handler, as the dev
// server does, until the test ends.
//
// It has a pool of its own, as the worker process has: its queries are
// not the handlers' (Queries counts those).
func (h *Harness) startWorker(cfg config.Config, url string) {
	t := h.T
	store, err := storage.Open(cfg.Storage.UploadsDir)
	if err != nil {
		t.Fatal(err)
	}
	parts := *h.Parts
	parts.DB = dbtest.Open(t, url)
	w, err := parts.NewWorker(store, "test-"+uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatalf("start the worker: %v", err)
	}
	t.Cleanup(func() { w.Stop(context.Background()) })
}

// WaitJobs waits until the queue has no job due or running: every mail
// of the requests so far is delivered (or given up) and every recording
// processed. It fails the test after a minute.
func (h *Harness) WaitJobs() {
	h.T.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := h.DB.JobsDue(context.Background())
		if err != nil {
			h.T.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.T.Fatalf("%d jobs still due or running after a minute", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitProcessed waits until recording id is processed (ready or failed),
// failing the test after a minute.
func (h *Harness) WaitProcessed(id string) {
	h.T.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var state string
		if err := h.DB.Pool().QueryRow(context.Background(), `SELECT processing_state FROM recordings WHERE id = $1`, id).Scan(&state); err != nil {
			h.T.Fatal(err)
		}
		if state != db.Pending {
			return
		}
		if time.Now().After(deadline) {
			h.T.Fatalf("recording %s still pending after a minute", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Response is what a client saw.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it cannot.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// ErrorCode is the "code" of a JSON error body, "" for none.
func (r Response) ErrorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Do sends r through the harness's edge and returns the response; it never
// follows redirects.
func (h *Harness) Do(r *http.Request) Response {
	h.T.Helper()
	var resp *http.Response
	var err error
	if h.Edge == HTTP {
		u, _ := url.Parse(h.server.URL)
		r.URL.Scheme, r.URL.Host = u.Scheme, u.Host
		r.RequestURI = ""
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err = client.Do(r)
	} else {
		resp, err = h.invoke(r)
	}
	if err != nil {
		h.T.Fatalf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.T.Fatalf("read body: %v", err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// invoke sends r as a Lambda event, through JSON as the Lambda service
// does, and turns the answer back into an HTTP response.
func (h *Harness) invoke(r *http.Request) (*http.Response, error) {
	if r.RemoteAddr == "" {
		r.RemoteAddr = "127.0.0.1:50000"
	}
	e, err := runtime.EventFromRequest(r)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var decoded = e
	if err := json.Unmarshal(raw, &decoded); err != nil {
		return nil, err
	}
	out, err := runtime.NewLambdaHandler(h.handler).Invoke(r.Context(), decoded)
	if err != nil {
		return nil, err
	}
	return runtime.ResponseFromEvent(out)
}

// NewRequest builds a request from the browser of the archive's own origin:
// JSON bodies are encoded, strings and readers sent as they are.
func NewRequest(t testing.TB, method, path string, body any) *http.Request {
	t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	r, err := http.NewRequest(method, BaseURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if method != http.MethodGet && method != http.MethodHead {
		r.Header.Set("Origin", BaseURL)
	}
	return r
}

// Buffer is a goroutine-safe log sink.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Clock is a settable clock for expiry and rate limits without sleeping.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// URL is the self-hosted edge's address (http edge only).
func (h *Harness) URL() string {
	if h.server == nil {
		h.T.Fatalf("URL: the %s edge has no server", h.Edge)
	}
	return h.server.URL
}

// RowCount is the number of rows in table.
func (h *Harness) RowCount(table string) int {
	h.T.Helper()
	var n int
	if err := h.DB.Pool().QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		h.T.Fatal(err)
	}
	return n
}

// QueryCounter is a pgx tracer that counts statements.
type QueryCounter struct{ n atomic.Int64 }

// TraceQueryStart counts one statement.
func (q *QueryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	return ctx
}

// TraceQueryEnd does nothing.
func (q *QueryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Count is the number of statements so far.
func (q *QueryCounter) Count() int64 { return q.n.Load() }

// FFmpeg returns the ffmpeg the worker would use. Without one the test
// fails when CI is set (every tool must be there) and is skipped
// otherwise.
func FFmpeg(tb testing.TB) media.FFmpeg {
	tb.Helper()
	ff, ok := media.Find()
	ff.Nice = 0 // the test waits for it, however busy the machine
	if !ok {
		if os.Getenv("CI") != "" {
			tb.Fatal("ffmpeg is not installed: the worker's tests need Debian's ffmpeg package")
		}
		tb.Skip("ffmpeg is not installed")
	}
	return ff
}

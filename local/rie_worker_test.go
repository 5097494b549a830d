package main

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"bandarchive/shared/mail/mailersendfake"
)

// fakeLambda answers the Lambda Invoke API as Lambda does for an
// asynchronous invocation (202 at once) and records each call.
type fakeLambda struct {
	*httptest.Server
	mu    sync.Mutex
	calls []string // "function invocation-type"
}

func newFakeLambda(t *testing.T) *fakeLambda {
	f := &fakeLambda{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
		name, ok2 := strings.CutSuffix(name, "/invocations")
		if r.Method != http.MethodPost || !ok || !ok2 {
			http.Error(w, "not the Invoke API", http.StatusNotFound)
			return
		}
		f.mu.Lock()
		f.calls = append(f.calls, name+" "+r.Header.Get("X-Amz-Invocation-Type"))
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeLambda) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// seen is what a client observes of an answer, less what differs on every
// request anyway (its id).
func seen(r events.APIGatewayV2HTTPResponse) string {
	var lines []string
	for k, v := range r.Headers {
		if k != "X-Request-Id" {
			lines = append(lines, k+": "+v)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n\n" + r.Body + "\n" + strings.Join(r.Cookies, ";")
}

// TestSendLinkOnLambdaAnswersAlikeAndTheWorkerDelivers: under the runtime
// interface emulator, send-link answers a member and a stranger alike, the
// first request after a cold start included, and never waits for
// Mailersend (which here takes 3 s, and which send-link may reach): it
// enqueues and wakes the worker function with an asynchronous invocation,
// the same for both. The worker function, invoked, then mails the member's
// links and nothing to the stranger.
func TestSendLinkOnLambdaAnswersAlikeAndTheWorkerDelivers(t *testing.T) {
	url := migratedURL(t)
	slowMail := mailersendfake.New(t)
	slowMail.SetDelay(3 * time.Second)
	lambda := newFakeLambda(t)
	env := []string{"DATABASE_URL=" + url, "BASE_URL=http://localhost:8080", "LOG_LEVEL=info",
		"MAILERSEND_API_URL=" + slowMail.URL, "MAILERSEND_API_TOKEN=" + slowMail.Token, "MAIL_FROM=archive@band.example",
		"WORKER_FUNCTION=bandarchive-worker", "AWS_ENDPOINT_URL_LAMBDA=" + lambda.URL, "AWS_REGION=eu-west-1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_SESSION_TOKEN="}
	ask := func(e *emulated, email string) (events.APIGatewayV2HTTPResponse, time.Duration) {
		t.Helper()
		req := httptest.NewRequest("POST", "http://localhost:8080/auth/send-link", strings.NewReader(`{"email":"`+email+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://localhost:8080")
		start := time.Now()
		r := e.invokeAnonymous(req)
		return r, time.Since(start)
	}
	const member = "admin@localhost.test"
	// Two cold starts: one answers a member first, the other a stranger.
	a, b := runEmulated(t, "send-link", env...), runEmulated(t, "send-link", env...)
	type pair struct {
		name             string
		member, stranger *emulated
	}
	var tookMember, tookStranger []time.Duration
	for i, p := range []pair{{"first after a cold start", a, b}, {"warm", b, a}, {"warm again", a, b}} {
		m, tm := ask(p.member, member)
		s, ts := ask(p.stranger, "stranger"+string(rune('a'+i))+"@band.example")
		if m.StatusCode != http.StatusAccepted || seen(m) != seen(s) {
			t.Fatalf("%s: member and stranger answers differ:\n--- member %d\n%s\n--- stranger %d\n%s", p.name, m.StatusCode, seen(m), s.StatusCode, seen(s))
		}
		tookMember, tookStranger = append(tookMember, tm), append(tookStranger, ts)
	}
	// Mailersend takes 3 s: an answer that waited for it would show.
	for i := range tookMember {
		if d := tookMember[i] - tookStranger[i]; d > time.Second || d < -time.Second {
			t.Errorf("request %d: member answered in %v, stranger in %v", i+1, tookMember[i], tookStranger[i])
		}
	}
	t.Logf("member answers %v, stranger answers %v", tookMember, tookStranger)
	if n := slowMail.Attempts(); n != 0 {
		t.Fatalf("send-link called Mailersend %d times; delivery is the worker's", n)
	}
	calls := lambda.Calls()
	if len(calls) != 6 || slices.ContainsFunc(calls, func(c string) bool { return c != "bandarchive-worker Event" }) {
		t.Fatalf("wake-ups %q, want 6 asynchronous invocations of bandarchive-worker, one per request", calls)
	}

	mail := mailersendfake.New(t)
	worker := runEmulated(t, "worker", "DATABASE_URL="+url, "BASE_URL=http://localhost:8080", "LOG_LEVEL=info",
		"MAILERSEND_API_URL="+mail.URL, "MAILERSEND_API_TOKEN="+mail.Token, "MAIL_FROM=archive@band.example",
		"UPLOADS_DIR="+t.TempDir(), "WORKER_ID=rie-worker")
	if out := string(worker.invokeRaw([]byte(`{"source": "aws.events"}`))); strings.Contains(out, "errorMessage") {
		t.Fatalf("the worker failed: %s\n%s", out, worker.logs.String())
	}
	sent := mail.Sent()
	if len(sent) != 3 {
		t.Fatalf("the worker sent %d mails, want 3 (the member's; none to strangers)\n%s", len(sent), worker.logs.String())
	}
	for _, m := range sent {
		if m.To[0].Email != member {
			t.Errorf("a mail went to %s", m.To[0].Email)
		}
	}
}

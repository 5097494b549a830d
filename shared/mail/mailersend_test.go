package mail_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"bandarchive/shared/mail"
	"bandarchive/shared/mail/mailersendfake"
)

// secretLink stands for a sign-in link: whoever reads it can sign in, so it
// must never reach a log.
const secretLink = "https://archive.example/auth/verify/c2VjcmV0LXNpZ24taW4tdG9rZW4tMzItYnl0ZXM"

func signInMessage() mail.Message {
	return mail.Message{
		To:      "alice@Example.org",
		ToName:  "Alice",
		Subject: "Sign in to Band Archive",
		Text:    "Open this link within 10 minutes to sign in:\n\n" + secretLink + "\n",
		HTML:    `<p><a href="` + secretLink + `">Sign in</a></p>`,
		Tags:    []string{"sign-in"},
	}
}

// sleepRecorder stands in for Sleep: it records each wait instead of
// waiting, so retry tests take milliseconds.
type sleepRecorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (r *sleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sleeps = append(r.sleeps, d)
	return ctx.Err()
}

func (r *sleepRecorder) Sleeps() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sleeps)
}

// newMailersend returns a Mailersend for apiURL logging JSON into the
// returned buffer, with test-friendly timings that edit may change.
func newMailersend(t *testing.T, apiURL, token string, edit func(*mail.MailersendConfig)) (*mail.Mailersend, *bytes.Buffer, *sleepRecorder) {
	t.Helper()
	logs := &bytes.Buffer{}
	rec := &sleepRecorder{}
	c := mail.MailersendConfig{
		APIURL:         apiURL,
		Token:          token,
		From:           "noreply@band.example",
		FromName:       "Band Archive",
		Budget:         30 * time.Second,
		AttemptTimeout: 2 * time.Second,
		Logger:         slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sleep:          rec.Sleep,
		Backoff:        func(attempt int) time.Duration { return time.Duration(attempt) * 100 * time.Millisecond },
	}
	if edit != nil {
		edit(&c)
	}
	return mail.NewMailersend(c), logs, rec
}

// logLines parses the JSON log lines in buf.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

// countLogs returns how many log lines have the message msg.
func countLogs(lines []map[string]any, msg string) int {
	n := 0
	for _, l := range lines {
		if l["msg"] == msg {
			n++
		}
	}
	return n
}

// assertNoSecrets fails t if the logs hold anything of the mail beyond the
// recipient's domain.
func assertNoSecrets(t *testing.T, logs string, m mail.Message, token string) {
	t.Helper()
	for _, secret := range []string{secretLink, "/auth/verify", "c2VjcmV0", m.Text, m.Subject, m.To, "alice", token} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}

// assertSameBodies fails t unless every request carried the same bytes,
// link included.
func assertSameBodies(t *testing.T, reqs []mailersendfake.Email) {
	t.Helper()
	for i, r := range reqs {
		if !bytes.Contains(r.Body, []byte(secretLink)) {
			t.Errorf("request %d body lacks the link: %s", i+1, r.Body)
		}
		if i > 0 && !bytes.Equal(r.Body, reqs[0].Body) {
			t.Errorf("request %d body differs from the first:\ngot  %s\nwant %s", i+1, r.Body, reqs[0].Body)
		}
	}
}

func suppressedBody(kind string) string {
	return `{"warnings":[{"type":"` + kind + `","warning":"Some of the recipients have been suppressed.",` +
		`"recipients":[{"email":"alice@example.org","name":"Alice","reasons":["hard_bounced"]}]}]}`
}

func TestMailersendSend(t *testing.T) {
	tests := []struct {
		name         string
		replies      []mailersendfake.Reply
		wrongToken   bool
		budget       time.Duration
		backoff      time.Duration // fixed backoff; 0 keeps 100ms × attempt
		wantErr      error         // nil: sent
		wantAttempts int
		wantSleeps   []time.Duration
		wantLog      []string // in the logs, besides the final line
	}{
		{
			name:         "202 with a message id is sent",
			wantAttempts: 1,
			wantLog:      []string{`"message_id":"`, `"to_domain":"example.org"`},
		},
		{
			name:         "202 with sending paused is not sent",
			replies:      []mailersendfake.Reply{{Header: map[string]string{"X-Send-Paused": "true"}}},
			wantErr:      mail.ErrSendPaused,
			wantAttempts: 1,
			wantLog:      []string{"mailersend has sending paused"},
		},
		{
			name:         "202 with every recipient suppressed is not sent",
			replies:      []mailersendfake.Reply{{Body: suppressedBody("ALL_SUPPRESSED")}},
			wantErr:      mail.ErrSuppressed,
			wantAttempts: 1,
			wantLog:      []string{"hard_bounced"},
		},
		{
			name:         "202 with the only recipient among some suppressed is not sent",
			replies:      []mailersendfake.Reply{{Body: suppressedBody("SOME_SUPPRESSED")}},
			wantErr:      mail.ErrSuppressed,
			wantAttempts: 1,
		},
		{
			name:         "202 without a message id is not sent",
			replies:      []mailersendfake.Reply{{Status: http.StatusAccepted}},
			wantErr:      mail.ErrNoMessageID,
			wantAttempts: 1,
		},
		{
			name:         "401 is not retried",
			replies:      []mailersendfake.Reply{{Status: http.StatusUnauthorized, Body: `{"message":"Unauthenticated."}`}},
			wantErr:      mail.ErrUnauthorized,
			wantAttempts: 1,
			wantLog:      []string{"mailersend rejected the API token or account"},
		},
		{
			name:         "a wrong token is refused by the fake and not retried",
			wrongToken:   true,
			wantErr:      mail.ErrUnauthorized,
			wantAttempts: 1,
			wantLog:      []string{"mailersend rejected the API token or account"},
		},
		{
			name:         "403 is not retried",
			replies:      []mailersendfake.Reply{{Status: http.StatusForbidden, Body: `{"message":"This action is unauthorized."}`}},
			wantErr:      mail.ErrUnauthorized,
			wantAttempts: 1,
			wantLog:      []string{"mailersend rejected the API token or account"},
		},
		{
			name: "422 is not retried and its field errors are logged",
			replies: []mailersendfake.Reply{{Status: http.StatusUnprocessableEntity, Body: `{"message":"The from.email must be verified. (and 1 more error)",` +
				`"errors":{"from.email":["The from.email must be verified."],"tags.0":["The tags.0 may not be greater than 191 characters."]}}`}},
			wantErr:      mail.ErrInvalid,
			wantAttempts: 1,
			wantLog:      []string{`"from.email":["The from.email must be verified."]`, `"tags.0"`, `"message":"The from.email must be verified. (and 1 more error)"`},
		},
		{
			name:         "another 4xx is not retried",
			replies:      []mailersendfake.Reply{{Status: http.StatusBadRequest, Body: `{"message":"Bad request."}`}},
			wantErr:      mail.ErrRejected,
			wantAttempts: 1,
		},
		{
			name: "429 is retried after Retry-After seconds",
			replies: []mailersendfake.Reply{{Status: http.StatusTooManyRequests, Body: `{"message":"Too Many Attempts."}`,
				Header: map[string]string{"Retry-After": "1", "X-RateLimit-Remaining": "0"}}},
			wantAttempts: 2,
			wantSleeps:   []time.Duration{time.Second},
			wantLog:      []string{`"rate_limit_remaining":"0"`, `"msg":"mail retry scheduled"`, `"delay":1000000000`},
		},
		{
			name:         "429 without Retry-After waits the backoff",
			replies:      []mailersendfake.Reply{{Status: http.StatusTooManyRequests}},
			wantAttempts: 2,
			wantSleeps:   []time.Duration{100 * time.Millisecond},
		},
		{
			name: "429 with a Retry-After beyond the budget gives up",
			replies: []mailersendfake.Reply{{Status: http.StatusTooManyRequests, Body: `{"message":"Daily quota exceeded."}`,
				Header: map[string]string{"Retry-After": "5", "x-apiquota-remaining": "0"}}},
			budget:       2 * time.Second,
			wantErr:      mail.ErrRateLimited,
			wantAttempts: 1,
			wantLog:      []string{`"api_quota_remaining":"0"`},
		},
		{
			name:         "500 twice then 202 is sent on the third attempt",
			replies:      []mailersendfake.Reply{{Status: 500}, {Status: 502}},
			wantAttempts: 3,
			wantSleeps:   []time.Duration{100 * time.Millisecond, 200 * time.Millisecond},
			wantLog:      []string{`"msg":"mail attempt failed"`, `"status":502`},
		},
		{
			name:         "503 with a backoff beyond the budget gives up",
			replies:      []mailersendfake.Reply{{Status: 503}},
			budget:       time.Second,
			backoff:      time.Minute,
			wantErr:      mail.ErrUnavailable,
			wantAttempts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := mailersendfake.New(t)
			fake.Script(tt.replies...)
			token := fake.Token
			if tt.wrongToken {
				token = "mlsn.revoked"
			}
			m, logs, rec := newMailersend(t, fake.URL, token, func(c *mail.MailersendConfig) {
				if tt.budget > 0 {
					c.Budget = tt.budget
				}
				if tt.backoff > 0 {
					c.Backoff = func(int) time.Duration { return tt.backoff }
				}
			})
			msg := signInMessage()

			err := m.Send(t.Context(), msg)

			if got := fake.Attempts(); got != tt.wantAttempts {
				t.Errorf("got %d attempts at Mailersend, want %d", got, tt.wantAttempts)
			}
			lines := logLines(t, logs)
			if len(lines) == 0 {
				t.Fatal("got no log lines, want some")
			}
			last := lines[len(lines)-1]
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				if got := len(fake.Sent()); got != 1 {
					t.Errorf("got %d mails sent, want 1", got)
				}
				if last["msg"] != "mail sent" || last["level"] != "INFO" {
					t.Errorf("got last log %v %q, want INFO \"mail sent\"", last["level"], last["msg"])
				}
				if got, want := last["attempts"], float64(tt.wantAttempts); got != want {
					t.Errorf("got attempts %v in the log, want %v", got, want)
				}
			} else {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, mail.ErrNotSent) {
					t.Fatalf("got error %v, want %v wrapping %v", err, tt.wantErr, mail.ErrNotSent)
				}
				var merr *mail.Error
				if !errors.As(err, &merr) {
					t.Fatalf("got error %T, want *mail.Error", err)
				}
				if merr.Attempts != tt.wantAttempts {
					t.Errorf("got Error.Attempts %d, want %d", merr.Attempts, tt.wantAttempts)
				}
				if got := len(fake.Sent()); got != 0 {
					t.Errorf("got %d mails sent, want 0", got)
				}
				if last["msg"] != "mail not sent" || last["level"] != "ERROR" {
					t.Errorf("got last log %v %q, want ERROR \"mail not sent\"", last["level"], last["msg"])
				}
			}
			if got := rec.Sleeps(); !slices.Equal(got, tt.wantSleeps) {
				t.Errorf("got sleeps %v, want %v", got, tt.wantSleeps)
			}
			if got, want := countLogs(lines, "mail attempt failed"), tt.wantAttempts; tt.wantErr == nil {
				want--
				if got != want {
					t.Errorf("got %d \"mail attempt failed\" logs, want %d", got, want)
				}
			}
			for _, want := range tt.wantLog {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("logs lack %s:\n%s", want, logs)
				}
			}
			assertSameBodies(t, fake.Requests())
			assertNoSecrets(t, logs.String(), msg, token)
		})
	}
}

func TestMailersendRequest(t *testing.T) {
	tests := []struct {
		name    string
		msg     mail.Message
		from    string
		want    string // the JSON body, compacted
		wantTag bool
	}{
		{
			name: "every field",
			msg:  mail.Message{To: "bob@example.org", ToName: "Bob", Subject: "Hi", Text: "t " + secretLink, HTML: "h " + secretLink, Tags: []string{"sign-in", "invite"}},
			from: "Band Archive",
			want: `{"from":{"email":"noreply@band.example","name":"Band Archive"},"to":[{"email":"bob@example.org","name":"Bob"}],` +
				`"subject":"Hi","text":"t ` + secretLink + `","html":"h ` + secretLink + `","tags":["sign-in","invite"],` +
				`"settings":{"track_clicks":false,"track_opens":false,"track_content":false}}`,
		},
		{
			name: "empty names and tags are left out",
			msg:  mail.Message{To: "bob@example.org", Subject: "Hi", Text: "t", HTML: "h"},
			want: `{"from":{"email":"noreply@band.example"},"to":[{"email":"bob@example.org"}],"subject":"Hi","text":"t","html":"h",` +
				`"settings":{"track_clicks":false,"track_opens":false,"track_content":false}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := mailersendfake.New(t)
			m, _, _ := newMailersend(t, fake.URL+"/", fake.Token, func(c *mail.MailersendConfig) { c.FromName = tt.from })

			if err := m.Send(t.Context(), tt.msg); err != nil {
				t.Fatalf("got error %v, want nil", err)
			}

			sent := fake.Sent()
			if len(sent) != 1 {
				t.Fatalf("got %d mails sent, want 1", len(sent))
			}
			if got, want := string(sent[0].Body), tt.want; got != want {
				t.Errorf("got body\n%s\nwant\n%s", got, want)
			}
			for header, want := range map[string]string{
				"Authorization": "Bearer " + fake.Token,
				"Content-Type":  "application/json",
			} {
				if got := sent[0].Header.Get(header); got != want {
					t.Errorf("got %s %q, want %q", header, got, want)
				}
			}
		})
	}
}

func TestMailersendDefaults(t *testing.T) {
	fake := mailersendfake.New(t)
	m := mail.NewMailersend(mail.MailersendConfig{APIURL: fake.URL, Token: fake.Token, From: "noreply@band.example"})

	if err := m.Send(t.Context(), signInMessage()); err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	if got := len(fake.Sent()); got != 1 {
		t.Errorf("got %d mails sent, want 1", got)
	}
}

func TestMailersendAttemptTimeout(t *testing.T) {
	t.Run("a hung call is abandoned and retried", func(t *testing.T) {
		fake := mailersendfake.New(t)
		fake.Script(mailersendfake.Reply{Delay: 5 * time.Second})
		m, logs, rec := newMailersend(t, fake.URL, fake.Token, func(c *mail.MailersendConfig) {
			c.AttemptTimeout = 200 * time.Millisecond
		})
		msg := signInMessage()

		start := time.Now()
		err := m.Send(t.Context(), msg)

		if err != nil {
			t.Fatalf("got error %v, want nil", err)
		}
		if got, want := fake.Attempts(), 2; got != want {
			t.Errorf("got %d attempts at Mailersend, want %d", got, want)
		}
		if got := len(fake.Sent()); got != 1 {
			t.Errorf("got %d mails sent, want 1", got)
		}
		if got, want := rec.Sleeps(), []time.Duration{100 * time.Millisecond}; !slices.Equal(got, want) {
			t.Errorf("got sleeps %v, want %v", got, want)
		}
		if got := time.Since(start); got > 2*time.Second {
			t.Errorf("got Send taking %v, want about the 200ms attempt timeout", got)
		}
		if !strings.Contains(logs.String(), "no answer within 200ms") {
			t.Errorf("logs lack the timeout:\n%s", logs)
		}
		assertSameBodies(t, fake.Requests())
		assertNoSecrets(t, logs.String(), msg, fake.Token)
	})

	t.Run("calls hung until the budget runs out give up", func(t *testing.T) {
		fake := mailersendfake.New(t)
		fake.SetDelay(5 * time.Second)
		m, logs, _ := newMailersend(t, fake.URL, fake.Token, func(c *mail.MailersendConfig) {
			c.Budget = 500 * time.Millisecond
			c.AttemptTimeout = 150 * time.Millisecond
		})
		msg := signInMessage()

		start := time.Now()
		err := m.Send(t.Context(), msg)

		if !errors.Is(err, mail.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got error %v, want %v and %v", err, mail.ErrUnavailable, context.DeadlineExceeded)
		}
		if got := fake.Attempts(); got < 2 {
			t.Errorf("got %d attempts at Mailersend, want at least 2", got)
		}
		if got := len(fake.Sent()); got != 0 {
			t.Errorf("got %d mails sent, want 0", got)
		}
		if got := time.Since(start); got > 2*time.Second {
			t.Errorf("got Send taking %v, want about the 500ms budget", got)
		}
		lines := logLines(t, logs)
		if got := lines[len(lines)-1]["msg"]; got != "mail not sent" {
			t.Errorf("got last log %q, want \"mail not sent\"", got)
		}
		assertSameBodies(t, fake.Requests())
		assertNoSecrets(t, logs.String(), msg, fake.Token)
	})
}

func TestMailersendConnectionRefused(t *testing.T) {
	fake := mailersendfake.New(t)
	fake.Close()
	m, logs, _ := newMailersend(t, fake.URL, fake.Token, func(c *mail.MailersendConfig) {
		c.Budget = 300 * time.Millisecond
		c.AttemptTimeout = 100 * time.Millisecond
		c.Sleep = nil // the real timer, so the budget runs out
		c.Backoff = func(int) time.Duration { return 50 * time.Millisecond }
	})
	msg := signInMessage()

	start := time.Now()
	err := m.Send(t.Context(), msg)

	if !errors.Is(err, mail.ErrUnavailable) {
		t.Fatalf("got error %v, want %v", err, mail.ErrUnavailable)
	}
	var merr *mail.Error
	if !errors.As(err, &merr) || merr.Status != 0 || !merr.Retryable {
		t.Errorf("got %#v, want a retryable *mail.Error with status 0", err)
	}
	lines := logLines(t, logs)
	if got := countLogs(lines, "mail attempt failed"); got < 2 {
		t.Errorf("got %d failed attempts, want at least 2", got)
	}
	if got, want := countLogs(lines, "mail retry scheduled"), countLogs(lines, "mail attempt failed")-1; got != want {
		t.Errorf("got %d retries scheduled, want %d", got, want)
	}
	if got := time.Since(start); got > 2*time.Second {
		t.Errorf("got Send taking %v, want about the 300ms budget", got)
	}
	if strings.Contains(logs.String(), fake.URL) {
		t.Errorf("logs contain the API URL:\n%s", logs)
	}
	assertNoSecrets(t, logs.String(), msg, fake.Token)
}

func TestMailersendRetryAfterDate(t *testing.T) {
	fake := mailersendfake.New(t)
	fake.Script(mailersendfake.Reply{Status: http.StatusTooManyRequests,
		Header: map[string]string{"Retry-After": time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)}})
	m, _, rec := newMailersend(t, fake.URL, fake.Token, nil)

	if err := m.Send(t.Context(), signInMessage()); err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	sleeps := rec.Sleeps()
	if len(sleeps) != 1 || sleeps[0] <= time.Second || sleeps[0] > 3*time.Second {
		t.Errorf("got sleeps %v, want one of 1s–3s", sleeps)
	}
}

func TestMailersendCallerCancel(t *testing.T) {
	fake := mailersendfake.New(t)
	fake.SetDelay(5 * time.Second)
	m, logs, _ := newMailersend(t, fake.URL, fake.Token, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()

	err := m.Send(ctx, signInMessage())

	if !errors.Is(err, mail.ErrNotSent) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got error %v, want %v and %v", err, mail.ErrNotSent, context.DeadlineExceeded)
	}
	if got := fake.Attempts(); got != 1 {
		t.Errorf("got %d attempts at Mailersend, want 1", got)
	}
	if got := countLogs(logLines(t, logs), "mail not sent"); got != 1 {
		t.Errorf("got %d \"mail not sent\" logs, want 1", got)
	}
}

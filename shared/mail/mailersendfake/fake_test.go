package mailersendfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"bandarchive/shared/mail/mailersendfake"
)

const validBody = `{"from":{"email":"noreply@band.example","name":"Band Archive"},` +
	`"to":[{"email":"alice@example.org","name":"Alice"}],"subject":"Sign in",` +
	`"text":"Sign in: https://archive.example/auth/verify/tok3n.","html":"<a href=\"https://archive.example/auth/verify/tok3n\">Sign in</a>",` +
	`"tags":["sign-in"],"settings":{"track_clicks":false,"track_opens":false,"track_content":false}}`

// post sends body to the fake as the mail client would, unless header
// overrides a header.
func post(t *testing.T, s *mailersendfake.Server, path, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// with returns validBody changed by edit.
func with(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(validBody), &v); err != nil {
		t.Fatal(err)
	}
	edit(v)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		header      map[string]string
		wantStatus  int
		wantFields  []string // keys of "errors" in a 422
		wantMessage string
	}{
		{name: "a valid mail is accepted", body: validBody, wantStatus: http.StatusAccepted},
		{name: "no token", body: validBody, header: map[string]string{"Authorization": ""}, wantStatus: http.StatusUnauthorized, wantMessage: "Unauthenticated."},
		{name: "wrong token", body: validBody, header: map[string]string{"Authorization": "Bearer mlsn.other"}, wantStatus: http.StatusUnauthorized, wantMessage: "Unauthenticated."},
		{name: "not JSON", body: "from=me", wantStatus: http.StatusUnprocessableEntity, wantFields: []string{"body"}},
		{name: "not sent as JSON", body: validBody, header: map[string]string{"Content-Type": "text/plain"}, wantStatus: http.StatusUnprocessableEntity, wantFields: []string{"body"}},
		{
			name:       "no from.email",
			body:       with(t, func(v map[string]any) { v["from"] = map[string]any{"name": "Band"} }),
			wantStatus: http.StatusUnprocessableEntity, wantFields: []string{"from.email"},
			wantMessage: "The from.email field is required.",
		},
		{
			name:       "empty to",
			body:       with(t, func(v map[string]any) { v["to"] = []any{} }),
			wantStatus: http.StatusUnprocessableEntity, wantFields: []string{"to"},
		},
		{
			name:       "invalid recipient",
			body:       with(t, func(v map[string]any) { v["to"] = []any{map[string]any{"email": "alice"}} }),
			wantStatus: http.StatusUnprocessableEntity, wantFields: []string{"to.0.email"},
		},
		{
			name:       "no subject",
			body:       with(t, func(v map[string]any) { delete(v, "subject") }),
			wantStatus: http.StatusUnprocessableEntity, wantFields: []string{"subject"},
		},
		{
			name:       "html without text is accepted",
			body:       with(t, func(v map[string]any) { delete(v, "text") }),
			wantStatus: http.StatusAccepted,
		},
		{
			name:       "neither text nor html",
			body:       with(t, func(v map[string]any) { delete(v, "text"); delete(v, "html") }),
			wantStatus: http.StatusUnprocessableEntity, wantFields: []string{"text"},
		},
		{
			name:       "click tracking on",
			body:       with(t, func(v map[string]any) { v["settings"] = map[string]any{"track_clicks": true} }),
			wantStatus: http.StatusUnprocessableEntity, wantFields: []string{"settings.track_clicks"},
		},
		{
			name:       "click tracking left to the domain default",
			body:       with(t, func(v map[string]any) { delete(v, "settings") }),
			wantStatus: http.StatusUnprocessableEntity, wantFields: []string{"settings.track_clicks"},
		},
		{
			name:       "several errors are counted in the message",
			body:       with(t, func(v map[string]any) { delete(v, "subject"); delete(v, "from"); delete(v, "settings") }),
			wantStatus: http.StatusUnprocessableEntity, wantFields: []string{"from.email", "settings.track_clicks", "subject"},
			wantMessage: "The from.email field is required. (and 2 more errors)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mailersendfake.New(t)

			resp, body := post(t, s, "/v1/email", tt.body, tt.header)

			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got status %d (%s), want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if got := s.Attempts(); got != 1 {
				t.Errorf("got %d attempts, want 1", got)
			}
			wantSent := 0
			if tt.wantStatus == http.StatusAccepted {
				wantSent = 1
				if id := resp.Header.Get("X-Message-Id"); !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) {
					t.Errorf("got X-Message-Id %q, want 24 hex digits", id)
				}
				if body != "" {
					t.Errorf("got body %q, want none", body)
				}
			}
			if got := len(s.Sent()); got != wantSent {
				t.Errorf("got %d sent, want %d", got, wantSent)
			}
			if got := len(s.Requests()); got != wantSent {
				t.Errorf("got %d well-formed requests, want %d", got, wantSent)
			}
			if tt.wantStatus == http.StatusAccepted {
				return
			}
			var v struct {
				Message string              `json:"message"`
				Errors  map[string][]string `json:"errors"`
			}
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatalf("got body %q, want JSON: %v", body, err)
			}
			if tt.wantMessage != "" && v.Message != tt.wantMessage {
				t.Errorf("got message %q, want %q", v.Message, tt.wantMessage)
			}
			fields := slices.Sorted(func(yield func(string) bool) {
				for k := range v.Errors {
					if !yield(k) {
						return
					}
				}
			})
			if !slices.Equal(fields, tt.wantFields) {
				t.Errorf("got error fields %v, want %v", fields, tt.wantFields)
			}
		})
	}
}

func TestRecordsTheMail(t *testing.T) {
	s := mailersendfake.New(t)

	resp, _ := post(t, s, "/v1/email", validBody, nil)

	sent := s.Sent()
	if len(sent) != 1 {
		t.Fatalf("got %d sent, want 1", len(sent))
	}
	e := sent[0]
	want := mailersendfake.Email{
		From:    mailersendfake.Address{Email: "noreply@band.example", Name: "Band Archive"},
		To:      []mailersendfake.Address{{Email: "alice@example.org", Name: "Alice"}},
		Subject: "Sign in",
		Text:    "Sign in: https://archive.example/auth/verify/tok3n.",
		HTML:    `<a href="https://archive.example/auth/verify/tok3n">Sign in</a>`,
		Tags:    []string{"sign-in"},
	}
	if e.From != want.From || !slices.Equal(e.To, want.To) || e.Subject != want.Subject ||
		e.Text != want.Text || e.HTML != want.HTML || !slices.Equal(e.Tags, want.Tags) {
		t.Errorf("got %+v, want %+v", e, want)
	}
	if got, want := e.MessageID, resp.Header.Get("X-Message-Id"); got != want {
		t.Errorf("got MessageID %q, want %q", got, want)
	}
	if got := string(e.Body); got != validBody {
		t.Errorf("got Body %s, want %s", got, validBody)
	}
	if got, want := e.Header.Get("Authorization"), "Bearer mlsn.test-token"; got != want {
		t.Errorf("got Authorization %q, want %q", got, want)
	}
}

func TestOtherRoutes(t *testing.T) {
	s := mailersendfake.New(t)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/v1/bulk-email", http.StatusNotFound},
		{http.MethodPost, "/v1/email/extra", http.StatusNotFound},
		{http.MethodGet, "/v1/email", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		req, _ := http.NewRequestWithContext(t.Context(), tt.method, s.URL+tt.path, strings.NewReader(validBody))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s: got %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
	}
	if got := s.Attempts(); got != 0 {
		t.Errorf("got %d attempts, want 0", got)
	}
}

func TestScript(t *testing.T) {
	s := mailersendfake.New(t)
	s.Script(
		mailersendfake.Reply{Status: 500, Body: `{"message":"Server Error"}`},
		mailersendfake.Reply{Status: 429, Header: map[string]string{"Retry-After": "7"}},
		mailersendfake.Reply{Header: map[string]string{"X-Send-Paused": "true"}},
		mailersendfake.Reply{Status: 202},
		mailersendfake.Reply{Body: `{"warnings":[{"type":"ALL_SUPPRESSED"}]}`},
	)
	tests := []struct {
		wantStatus int
		wantHeader map[string]string
		wantID     bool
		wantBody   string
	}{
		{wantStatus: 500, wantBody: `{"message":"Server Error"}`},
		{wantStatus: 429, wantHeader: map[string]string{"Retry-After": "7"}},
		{wantStatus: 202, wantID: true, wantHeader: map[string]string{"X-Send-Paused": "true"}},
		{wantStatus: 202},
		{wantStatus: 202, wantID: true, wantBody: `{"warnings":[{"type":"ALL_SUPPRESSED"}]}`},
		{wantStatus: 202, wantID: true}, // the script is used up
	}
	for i, tt := range tests {
		resp, body := post(t, s, "/v1/email", validBody, nil)
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("reply %d: got status %d, want %d", i+1, resp.StatusCode, tt.wantStatus)
		}
		if got := resp.Header.Get("X-Message-Id") != ""; got != tt.wantID {
			t.Errorf("reply %d: got X-Message-Id %v, want %v", i+1, got, tt.wantID)
		}
		for k, v := range tt.wantHeader {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("reply %d: got %s %q, want %q", i+1, k, got, v)
			}
		}
		if body != tt.wantBody {
			t.Errorf("reply %d: got body %q, want %q", i+1, body, tt.wantBody)
		}
	}
	if got, want := s.Attempts(), len(tests); got != want {
		t.Errorf("got %d attempts, want %d", got, want)
	}
	if got, want := len(s.Requests()), len(tests); got != want {
		t.Errorf("got %d requests, want %d", got, want)
	}
	// Only the last answer said "sent": paused, suppressed and id-less 202s
	// did not.
	if got, want := len(s.Sent()), 1; got != want {
		t.Errorf("got %d sent, want %d", got, want)
	}
}

func TestDelay(t *testing.T) {
	t.Run("a client that leaves early is not counted as sent", func(t *testing.T) {
		s := mailersendfake.New(t)
		s.SetDelay(5 * time.Second)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/v1/email", strings.NewReader(validBody))
		req.Header.Set("Authorization", "Bearer "+s.Token)
		req.Header.Set("Content-Type", "application/json")

		_, err := http.DefaultClient.Do(req)

		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want %v", err, context.DeadlineExceeded)
		}
		if got := len(s.Requests()); got != 1 {
			t.Errorf("got %d requests, want 1", got)
		}
		if got := len(s.Sent()); got != 0 {
			t.Errorf("got %d sent, want 0", got)
		}
	})
	t.Run("a client that waits gets the answer", func(t *testing.T) {
		s := mailersendfake.New(t)
		s.Script(mailersendfake.Reply{Delay: 50 * time.Millisecond})
		start := time.Now()

		resp, _ := post(t, s, "/v1/email", validBody, nil)

		if resp.StatusCode != http.StatusAccepted {
			t.Errorf("got %d, want %d", resp.StatusCode, http.StatusAccepted)
		}
		if got := time.Since(start); got < 50*time.Millisecond {
			t.Errorf("got an answer after %v, want at least 50ms", got)
		}
	})
}

func TestWaitSent(t *testing.T) {
	s := mailersendfake.New(t)
	go func() {
		time.Sleep(20 * time.Millisecond)
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/email", strings.NewReader(validBody))
		req.Header.Set("Authorization", "Bearer "+s.Token)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()

	sent := s.WaitSent(t, 1, 2*time.Second)

	if got := mailersendfake.Link(t, sent[0], "https://archive.example/auth/verify/"); got != "https://archive.example/auth/verify/tok3n" {
		t.Errorf("got link %q, want %q", got, "https://archive.example/auth/verify/tok3n")
	}
}

func TestLink(t *testing.T) {
	const prefix = "https://archive.example/auth/verify/"
	tests := []struct {
		name, text, want string
	}{
		{"own line", "Sign in:\n\nhttps://archive.example/auth/verify/abc-_123\n\nBye", prefix + "abc-_123"},
		{"end of sentence", "Open https://archive.example/auth/verify/abc.", prefix + "abc"},
		{"in brackets", "Open <https://archive.example/auth/verify/abc>", prefix + "abc"},
		{"first of two", "a https://archive.example/auth/verify/one b https://archive.example/auth/verify/two", prefix + "one"},
		{"end of text", "https://archive.example/auth/verify/xyz", prefix + "xyz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mailersendfake.Link(t, mailersendfake.Email{Text: tt.text}, prefix); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

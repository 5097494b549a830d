// Package mailersendfake is a fake of Mailersend's email API for tests of
// any package that sends mail. Like net/http/httptest it runs a real HTTP
// server, so the real client is exercised; it checks each request as
// Mailersend documents it and answers as the test scripts.
package mailersendfake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// Address is a sender or recipient as Mailersend's API spells it.
type Address struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Email is one well-formed request to POST /v1/email.
type Email struct {
	From      Address
	To        []Address
	Subject   string
	Text      string
	HTML      string
	Tags      []string
	MessageID string      // the X-Message-Id answered; empty if none
	Header    http.Header // the request's headers
	Body      []byte      // the raw JSON, to compare retries byte for byte
}

// Reply is one scripted answer.
//
// A zero Status means Mailersend's success: 202 with a fresh X-Message-Id,
// plus Header and Body (so Reply{Header: {"X-Send-Paused": "true"}} is a
// paused account). Any other Status is sent exactly as given, with only the
// headers in Header (so Reply{Status: 202} has no X-Message-Id).
type Reply struct {
	Status int
	Header map[string]string
	Body   string
	Delay  time.Duration // wait before answering, cut short if the client leaves
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	URL   string // base URL, for MAILERSEND_API_URL
	Token string // the only bearer token accepted; do not change it

	srv       *httptest.Server
	closing   chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	script   []Reply
	delay    time.Duration
	attempts int
	requests []Email
	sent     []Email
}

// New starts a fake that tb's cleanup closes. It accepts the token
// "mlsn.test-token".
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{Token: "mlsn.test-token", closing: make(chan struct{})}
	mux := http.NewServeMux()
	// Only this route: anything else gets the mux's 404 or 405.
	mux.HandleFunc("POST /v1/email", s.handleEmail)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server; later requests are refused at connect, as when
// Mailersend is unreachable. Delayed answers in flight are abandoned.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.srv.Close()
	})
}

// Script makes the next len(replies) well-formed requests get these replies
// in order; after them come default replies. Requests refused with 401 or
// 422 do not use up the script.
func (s *Server) Script(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// SetDelay makes every default reply wait d first, as a slow Mailersend.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Attempts returns how many POST /v1/email requests arrived, whatever the
// answer.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Sent returns, in order, the mails answered as sent: 202 with an
// X-Message-Id, without X-Send-Paused and without warnings. Mails whose
// delayed answer the client did not wait for are not among them.
func (s *Server) Sent() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Requests returns, in order, every well-formed request, whatever the
// answer.
func (s *Server) Requests() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// WaitSent waits until at least n mails were sent and returns them all, for
// code that sends in the background. It fails tb after timeout.
func (s *Server) WaitSent(tb testing.TB, n int, timeout time.Duration) []Email {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sent := s.Sent()
		if len(sent) >= n {
			return sent
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mailersendfake: got %d sent mails after %v, want %d (%d attempts)", len(sent), timeout, n, s.Attempts())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Link returns the first URL in e.Text that starts with prefix (for
// example BASE_URL+"/auth/verify/"), failing tb if there is none.
func Link(tb testing.TB, e Email, prefix string) string {
	tb.Helper()
	i := strings.Index(e.Text, prefix)
	if i < 0 {
		tb.Fatalf("mailersendfake: no link starting with %q in the mail text:\n%s", prefix, e.Text)
	}
	link := e.Text[i:]
	if end := strings.IndexFunc(link, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`"'<>`, r)
	}); end >= 0 {
		link = link[:end]
	}
	// Sentence punctuation right after a link is not part of it.
	return strings.TrimRight(link, ".,;:!?)")
}

func (s *Server) handleEmail(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.attempts++
	s.mu.Unlock()

	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		writeJSON(w, http.StatusUnauthorized, `{"message":"Unauthenticated."}`)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 10<<20))
	if err != nil {
		writeInvalid(w, []problem{{"body", "The request body could not be read."}})
		return
	}
	e, problems := parse(r.Header, body)
	if len(problems) > 0 {
		writeInvalid(w, problems)
		return
	}

	s.mu.Lock()
	reply := s.nextReply()
	e.MessageID = reply.header.Get("X-Message-Id")
	s.requests = append(s.requests, e)
	s.mu.Unlock()

	if reply.Delay > 0 {
		t := time.NewTimer(reply.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
	// Recorded before answering, so a client that saw the answer also
	// finds the mail in Sent.
	if reply.sent() {
		s.mu.Lock()
		s.sent = append(s.sent, e)
		s.mu.Unlock()
	}
	for k, v := range reply.header {
		w.Header()[k] = v
	}
	if reply.Body != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(reply.Status)
	io.WriteString(w, reply.Body)
}

// answer is a Reply resolved into what goes on the wire.
type answer struct {
	Reply
	header http.Header
}

// nextReply takes the next scripted reply, or makes the default one.
// s.mu must be held.
func (s *Server) nextReply() answer {
	a := answer{Reply: Reply{Delay: s.delay}}
	if len(s.script) > 0 {
		a.Reply, s.script = s.script[0], s.script[1:]
	}
	a.header = http.Header{}
	if a.Status == 0 {
		a.Status = http.StatusAccepted
		a.header.Set("X-Message-Id", messageID())
	}
	for k, v := range a.Header {
		a.header.Set(k, v)
	}
	return a
}

// sent reports whether the answer tells the client the mail was sent.
func (a answer) sent() bool {
	if a.Status != http.StatusAccepted || a.header.Get("X-Message-Id") == "" ||
		strings.EqualFold(a.header.Get("X-Send-Paused"), "true") {
		return false
	}
	var v struct {
		Warnings []json.RawMessage `json:"warnings"`
	}
	return json.Unmarshal([]byte(a.Body), &v) != nil || len(v.Warnings) == 0
}

// problem is one field error of a 422.
type problem struct{ field, message string }

// parse checks a request as Mailersend would, plus one rule of ours: click
// tracking must be explicitly off, since it would rewrite the links.
func parse(h http.Header, body []byte) (Email, []problem) {
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "application/json" {
		return Email{}, []problem{{"body", "The request must have Content-Type: application/json."}}
	}
	var req struct {
		From     *Address  `json:"from"`
		To       []Address `json:"to"`
		Subject  string    `json:"subject"`
		Text     string    `json:"text"`
		HTML     string    `json:"html"`
		Tags     []string  `json:"tags"`
		Settings *struct {
			TrackClicks *bool `json:"track_clicks"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return Email{}, []problem{{"body", "The request body must be valid JSON."}}
	}
	var ps []problem
	switch {
	case req.From == nil || req.From.Email == "":
		ps = append(ps, problem{"from.email", "The from.email field is required."})
	case !validAddress(req.From.Email):
		ps = append(ps, problem{"from.email", "The from.email must be a valid email address."})
	}
	if len(req.To) == 0 {
		ps = append(ps, problem{"to", "The to field is required."})
	}
	for i, to := range req.To {
		field := fmt.Sprintf("to.%d.email", i)
		switch {
		case to.Email == "":
			ps = append(ps, problem{field, "The " + field + " field is required."})
		case !validAddress(to.Email):
			ps = append(ps, problem{field, "The " + field + " must be a valid email address."})
		}
	}
	if req.Subject == "" {
		ps = append(ps, problem{"subject", "The subject field is required."})
	}
	if req.Text == "" && req.HTML == "" {
		ps = append(ps, problem{"text", "The text field is required when html is not present."})
	}
	if len(req.Tags) > 5 {
		ps = append(ps, problem{"tags", "The tags may not have more than 5 items."})
	}
	if req.Settings == nil || req.Settings.TrackClicks == nil || *req.Settings.TrackClicks {
		ps = append(ps, problem{"settings.track_clicks", "The settings.track_clicks field must be false: click tracking rewrites links."})
	}
	if len(ps) > 0 {
		return Email{}, ps
	}
	return Email{
		From:    *req.From,
		To:      req.To,
		Subject: req.Subject,
		Text:    req.Text,
		HTML:    req.HTML,
		Tags:    req.Tags,
		Header:  h.Clone(),
		Body:    bytes.Clone(body),
	}, nil
}

// validAddress reports whether s is a bare address such as a@example.com.
func validAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// writeInvalid answers 422 the way Mailersend does: the first message, a
// count of the others, and every message by field.
func writeInvalid(w http.ResponseWriter, ps []problem) {
	v := struct {
		Message string              `json:"message"`
		Errors  map[string][]string `json:"errors"`
	}{Message: ps[0].message, Errors: map[string][]string{}}
	switch n := len(ps) - 1; {
	case n == 1:
		v.Message += " (and 1 more error)"
	case n > 1:
		v.Message += fmt.Sprintf(" (and %d more errors)", n)
	}
	for _, p := range ps {
		v.Errors[p.field] = append(v.Errors[p.field], p.message)
	}
	b, _ := json.Marshal(v)
	writeJSON(w, http.StatusUnprocessableEntity, string(b))
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// messageID returns 24 random hex digits, the shape of Mailersend's ids.
func messageID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

package mail_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"bandarchive/shared/mail"
)

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	s := mail.NewLogSender(slog.New(slog.NewJSONHandler(&buf, nil)), nil)
	msg := signInMessage()

	if err := s.Send(t.Context(), msg); err != nil {
		t.Fatalf("got error %v, want nil", err)
	}

	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("got log %q, want one JSON line: %v", buf.String(), err)
	}
	want := map[string]any{
		"level":   "INFO",
		"msg":     "dev mail (not sent)",
		"to":      msg.To,
		"subject": msg.Subject,
		"text":    msg.Text,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("got %s %q, want %q", k, got[k], v)
		}
	}
}

// TestLogSenderPrintsEachLink: beside the log, each mail with a link
// prints exactly one plain line "Sign in: <url>", and a mail without one
// prints nothing.
func TestLogSenderPrintsEachLink(t *testing.T) {
	var logs, lines bytes.Buffer
	s := mail.NewLogSender(slog.New(slog.NewJSONHandler(&logs, nil)), &lines)
	first, second, plain := signInMessage(), signInMessage(), signInMessage()
	first.Link = secretLink
	second.Link = "http://localhost:8080/auth/verify/second"
	plain.Text = "No link here."
	for _, m := range []mail.Message{first, plain, second} {
		if err := s.Send(t.Context(), m); err != nil {
			t.Fatalf("got error %v, want nil", err)
		}
	}
	want := "Sign in: " + secretLink + "\nSign in: http://localhost:8080/auth/verify/second\n"
	if lines.String() != want {
		t.Errorf("printed %q, want %q", lines.String(), want)
	}
	if n := bytes.Count(logs.Bytes(), []byte("dev mail (not sent)")); n != 3 {
		t.Errorf("%d mails logged, want 3:\n%s", n, logs.String())
	}
	if bytes.Contains(logs.Bytes(), []byte("Sign in: ")) {
		t.Errorf("the plain lines went into the JSON log:\n%s", logs.String())
	}
}

// LogSender is a Sender, as is Mailersend.
var (
	_ mail.Sender = (*mail.LogSender)(nil)
	_ mail.Sender = (*mail.Mailersend)(nil)
)

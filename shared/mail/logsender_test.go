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
	s := mail.NewLogSender(slog.New(slog.NewJSONHandler(&buf, nil)))
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

// LogSender is a Sender, as is Mailersend.
var (
	_ mail.Sender = (*mail.LogSender)(nil)
	_ mail.Sender = (*mail.Mailersend)(nil)
)

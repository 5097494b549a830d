package app_test

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"bandarchive/shared/app"
	"bandarchive/shared/config"
	"bandarchive/shared/mail"
)

// TestNewSenderPrintsLinksOnlyWithoutAToken: the dev mailer, which prints
// each link where anyone at the terminal can use it, is chosen only when
// no Mailersend token is set; with one, mails go to Mailersend and nothing
// is printed.
func TestNewSenderPrintsLinksOnlyWithoutAToken(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var stderr bytes.Buffer
	var cfg config.Config
	cfg.Mail.APIToken = "mlsn.real-token"
	cfg.Mail.APIURL = "http://127.0.0.1:1"
	if s, ok := app.NewSender(cfg, log, &stderr).(*mail.Mailersend); !ok {
		t.Fatalf("with a token: %T, want *mail.Mailersend", s)
	}
	if stderr.Len() != 0 {
		t.Errorf("with a token, printed %q", stderr.String())
	}

	cfg.Mail.APIToken = ""
	s := app.NewSender(cfg, log, &stderr)
	if _, ok := s.(*mail.LogSender); !ok {
		t.Fatalf("without a token: %T, want *mail.LogSender", s)
	}
	link := "http://localhost:8080/auth/verify/abc"
	if err := s.Send(t.Context(), mail.Message{To: "a@example.org", Text: link, Link: link}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n"); len(got) != 1 || got[0] != "Sign in: "+link {
		t.Errorf("without a token, printed %q; want the one line Sign in: %s", stderr.String(), link)
	}
}

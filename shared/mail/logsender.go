package mail

import (
	"context"
	"log/slog"
)

// LogSender is the development Sender used when no Mailersend token is set.
// It writes each mail, link included, to the log so a developer can click it.
// This is the one place a mail body is logged on purpose; it never runs with
// real recipients because production always has a token.
type LogSender struct {
	log *slog.Logger
}

// NewLogSender returns a LogSender writing to l, or to slog.Default if l is
// nil.
func NewLogSender(l *slog.Logger) *LogSender {
	if l == nil {
		l = slog.Default()
	}
	return &LogSender{log: l}
}

// Send logs m at Info level as "dev mail (not sent)" and never fails.
func (s *LogSender) Send(ctx context.Context, m Message) error {
	s.log.InfoContext(ctx, "dev mail (not sent)",
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("text", m.Text),
	)
	return nil
}

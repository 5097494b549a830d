package mail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// LogSender is the development Sender used when no Mailersend token is set.
// It writes each mail, link included, to the log, and the link once more on
// a plain line of its own ("Sign in: <url>"), which a terminal makes
// clickable among the JSON logs. This is the one place a mail body is
// logged on purpose; it never runs with real recipients because production
// always has a token (app.NewSender picks it only without one).
type LogSender struct {
	log *slog.Logger

	mu    sync.Mutex // one line at a time on lines
	lines io.Writer
}

// NewLogSender returns a LogSender writing to l, or to slog.Default if l is
// nil, and the plain line of each mail's link to lines (none if nil).
func NewLogSender(l *slog.Logger, lines io.Writer) *LogSender {
	if l == nil {
		l = slog.Default()
	}
	return &LogSender{log: l, lines: lines}
}

// Send logs m at Info level as "dev mail (not sent)", prints its link, if
// it has one, as "Sign in: <url>", and never fails.
func (s *LogSender) Send(ctx context.Context, m Message) error {
	s.log.InfoContext(ctx, "dev mail (not sent)",
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("text", m.Text),
	)
	if m.Link != "" && s.lines != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		fmt.Fprintf(s.lines, "Sign in: %s\n", m.Link)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"bandarchive/local/stack"
)

// stackDir is where `local stack` keeps its logs, Nginx's files and the
// binaries, below the checkout (.data is git-ignored).
const stackDir = ".data/stack"

// stackCmd runs the production topology on this machine until interrupted:
// PostgreSQL, the migrate step, each function as its own process and Nginx
// in front on $PORT (default 8080).
func stackCmd(ctx context.Context, stderr io.Writer) error {
	port := 8080
	if v := os.Getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("PORT must be a port number, got %q", v)
		}
		port = p
	}
	s, err := stack.Start(ctx, stack.Options{Port: port, Dir: stackDir, Stderr: stderr})
	if err != nil {
		return err
	}
	logs := filepath.Join(s.Dir, "logs")
	fmt.Fprintf(stderr, `
bandarchive is running at %s (Nginx in front of %d functions; ready in %.1fs)
  logs: %s/<function>.log, nginx-access.log, nginx-error.log
        follow them with: tail -F %s/*.log
`, s.BaseURL, len(s.Ports), s.Started.Seconds(), logs, logs)
	if os.Getenv("MAILERSEND_API_TOKEN") == "" {
		fmt.Fprintf(stderr, "  with no MAILERSEND_API_TOKEN, sign-in links are printed in %s and %s\n",
			s.LogFile("send-link"), s.LogFile("invites"))
	}
	fmt.Fprintln(stderr, "Ctrl-C stops it.")
	werr := s.Wait()
	if werr != nil {
		fmt.Fprintf(stderr, "local: %v\n", werr)
	}
	fmt.Fprintln(stderr, "stopping…")
	if err := s.Stop(); err != nil {
		return errors.Join(werr, err)
	}
	if werr != nil {
		return errors.New("the stack stopped because a process exited")
	}
	fmt.Fprintln(stderr, "stopped.")
	return nil
}

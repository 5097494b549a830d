// Package runtime serves one http.Handler on either of two edges: AWS Lambda
// (through the API Gateway v2 proxy adapter) or a self-hosted http.Server.
// Both answer the same; tests hold them to it.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// Options configure Start.
type Options struct {
	// Lambda serves h as a Lambda function (config.Config.OnLambda).
	Lambda bool
	Port   string
	// InvokeAPI also answers the Lambda invoke URL on the self-hosted edge.
	InvokeAPI bool
	Logger    *slog.Logger
	// Drain runs during graceful shutdown, after the server stops taking
	// requests: work detached from requests (mail deliveries) finishes here.
	Drain func(context.Context) error
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration

	// Body deadlines of the self-hosted edge (see DefaultBodyTimeout):
	// BodyTimeout bounds a small body; a body for which LargeBody reports
	// true must bring MinBodyBytes within every BodyWindow instead.
	BodyTimeout  time.Duration
	BodyWindow   time.Duration
	MinBodyBytes int64
	LargeBody    func(*http.Request) bool
}

// Start serves h until the process is told to stop. Under a Lambda runtime
// it never returns.
func Start(ctx context.Context, h http.Handler, o Options) error {
	if o.Lambda {
		lambda.StartWithOptions(NewLambdaHandler(h).Invoke, lambda.WithContext(ctx))
		return nil
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	l, err := net.Listen("tcp", ":"+o.Port)
	if err != nil {
		return fmt.Errorf("listen on port %s: %w", o.Port, err)
	}
	return Serve(ctx, l, h, o)
}

// Serve runs the self-hosted edge on l until ctx ends, then shuts down
// gracefully: in-flight requests finish, then Drain runs.
func Serve(ctx context.Context, l net.Listener, h http.Handler, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.BodyTimeout == 0 {
		o.BodyTimeout = DefaultBodyTimeout
	}
	if o.BodyWindow == 0 {
		o.BodyWindow = DefaultBodyWindow
	}
	if o.MinBodyBytes == 0 {
		o.MinBodyBytes = DefaultMinBodyBytes
	}
	h = bodyDeadlines(h, o)
	if o.InvokeAPI {
		mux := http.NewServeMux()
		mux.Handle("POST "+InvokePath, InvokeAPIHandler(h))
		mux.Handle("/", h)
		h = mux
	}
	srv := NewServer(h)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	o.Logger.Info("listening", "addr", l.Addr().String(), "invoke_api", o.InvokeAPI)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	o.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if o.Drain != nil {
		err = errors.Join(err, o.Drain(sctx))
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// NewServer returns an http.Server with timeouts fit for the archive:
// headers must arrive quickly, but a 500 MB upload on a slow line may take
// most of an hour, so the server has no overall read deadline (Serve puts
// one on each body instead); idle connections are closed.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

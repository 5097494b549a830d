// Package app wires a function: configuration, database, logger, sessions
// and mail into an Env, the function's routes (checked against the route
// table) into a handler with the shared middleware, and the handler onto a
// runtime edge. Every functions/<name>/main.go is one call to Main.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"bandarchive/shared/auth"
	"bandarchive/shared/background"
	"bandarchive/shared/config"
	"bandarchive/shared/db"
	"bandarchive/shared/httpx"
	"bandarchive/shared/mail"
	"bandarchive/shared/routes"
	"bandarchive/shared/runtime"
	"bandarchive/shared/signin"
)

// Env holds what handlers depend on.
type Env struct {
	Config   config.Config
	DB       *db.DB
	Logger   *slog.Logger
	Now      func() time.Time
	Sessions *auth.Sessions
	// Background runs work that must not hold up an answer; graceful
	// shutdown waits for it. Synchronous on Lambda.
	Background *background.Group
	Outbox     *signin.Outbox
	SignIn     *signin.Service
}

// NewLogger returns the JSON logger of every process.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// NewEnv builds an Env on an open database. sender may be nil: then it is
// chosen from the configuration (Mailersend with a token, else the dev
// mailer that logs links).
func NewEnv(cfg config.Config, database *db.DB, log *slog.Logger, sender mail.Sender) *Env {
	if sender == nil {
		sender = NewSender(cfg, log)
	}
	e := &Env{Config: cfg, DB: database, Logger: log, Now: time.Now}
	e.Sessions = &auth.Sessions{DB: database, Secure: cfg.CookieSecure, Now: e.clock}
	e.Background = background.New(log)
	e.Background.Sync = runtime.OnLambda(os.Getenv)
	e.Outbox = signin.NewOutbox(sender, e.Background)
	if e.Background.Sync {
		// API Gateway gives up after 30 s; the mail goes before the answer.
		e.Outbox.Budget = 20 * time.Second
	}
	e.SignIn = &signin.Service{
		DB: database, Outbox: e.Outbox, BaseURL: cfg.BaseURL, AppName: cfg.AppName, Now: e.clock,
		PerEmail: signin.DefaultPerEmail, PerIP: signin.DefaultPerIP,
	}
	return e
}

// clock reads Now at call time, so tests can swap the clock after NewEnv.
func (e *Env) clock() time.Time { return e.Now() }

// NewSender picks the mailer from the configuration.
func NewSender(cfg config.Config, log *slog.Logger) mail.Sender {
	if cfg.Mail.APIToken == "" {
		log.Warn("MAILERSEND_API_TOKEN is not set: mails are written to this log instead of sent")
		return mail.NewLogSender(log)
	}
	return mail.NewMailersend(mail.MailersendConfig{
		APIURL: cfg.Mail.APIURL, Token: cfg.Mail.APIToken,
		From: cfg.Mail.From, FromName: cfg.Mail.FromName, Logger: log,
	})
}

// Builder makes one function's handler from the Env.
type Builder func(*Env) (http.Handler, error)

// Routes builds a function's mux from its handlers keyed by pattern
// ("POST /auth/send-link") and checks that they are exactly the function's
// rows of the route table, so code and table cannot drift.
func Routes(function string, handlers map[string]http.Handler) (http.Handler, error) {
	want := routes.For(function)
	if len(want) == 0 {
		return nil, fmt.Errorf("function %q is not in the route table", function)
	}
	var missing, extra []string
	for _, r := range want {
		if _, ok := handlers[r.Pattern()]; !ok {
			missing = append(missing, r.Pattern())
		}
	}
	for p := range handlers {
		if !slices.ContainsFunc(want, func(r routes.Route) bool { return r.Pattern() == p }) {
			extra = append(extra, p)
		}
	}
	if len(missing)+len(extra) > 0 {
		return nil, fmt.Errorf("function %s: routes not handled %v, handled but not in the route table %v", function, missing, extra)
	}
	return Mux(want, func(r routes.Route) http.Handler { return handlers[r.Pattern()] }, nil), nil
}

// Mux routes rs to the handler handlerFor gives each. A known path with
// another method gets a JSON 405 with Allow; any other path goes to
// fallback, or gets a JSON 404 when fallback is nil, as SPEC.md wants every
// error to be JSON.
func Mux(rs []routes.Route, handlerFor func(routes.Route) http.Handler, fallback http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, r := range rs {
		mux.Handle(r.Pattern(), handlerFor(r))
		allowed[r.Path] = append(allowed[r.Path], r.Method)
		if r.Method == http.MethodGet {
			allowed[r.Path] = append(allowed[r.Path], http.MethodHead)
		}
	}
	for path, methods := range allowed {
		mux.Handle(path, methodNotAllowed(methods))
	}
	if fallback == nil {
		fallback = httpx.NotFoundHandler()
	}
	mux.Handle("/", fallback)
	return mux
}

func methodNotAllowed(methods []string) http.Handler {
	allow := strings.Join(methods, ", ")
	return httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return httpx.Errorf(httpx.MethodNotAllowed, "%s is not allowed here; use %s.", r.Method, allow)
	})
}

// Handler puts around h what every function shares on both edges: the
// health check, the Origin check for writes, and httpx.Stack.
func (e *Env) Handler(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+routes.HealthPath, Health(e.DB))
	mux.Handle("/", auth.CheckOrigin(e.Config.Origin(), h))
	return httpx.Stack(mux, httpx.Options{Logger: e.Logger, ClientIPHeader: e.Config.ClientIPHeader})
}

// Health answers 200 when the database answers within two seconds, else 503.
func Health(database *db.DB) http.Handler {
	return httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := database.Ping(ctx); err != nil {
			return httpx.Wrap(httpx.Unavailable, err, "The database is not reachable.")
		}
		return httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// Open loads the configuration from the environment, connects to the
// database and checks its schema: the start of every process.
func Open(ctx context.Context, stderr io.Writer) (config.Config, *db.DB, *slog.Logger, error) {
	cfg, err := config.Load(os.Environ())
	if err != nil {
		return config.Config{}, nil, nil, err
	}
	log := NewLogger(stderr, cfg.LogLevel)
	database, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return config.Config{}, nil, nil, err
	}
	return cfg, database, log, nil
}

// Main runs one function: the whole of a functions/<name>/main.go. With the
// argument "migrate" it runs the migrate step instead and exits, so one
// image serves every function and the one-shot migrate service.
func Main(function string, build Builder) {
	run := serve
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		run = func(ctx context.Context, _ string, _ Builder) error { return Migrate(ctx, os.Environ(), os.Stderr) }
	}
	if err := run(context.Background(), function, build); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", function, err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, function string, build Builder) error {
	cfg, database, log, err := Open(ctx, os.Stderr)
	if err != nil {
		return err
	}
	defer database.Close()
	log = log.With("function", function)
	if err := database.CheckSchema(ctx); err != nil {
		return err
	}
	env := NewEnv(cfg, database, log, nil)
	h, err := build(env)
	if err != nil {
		return err
	}
	if err := database.PruneExpired(ctx, time.Now()); err != nil {
		log.Warn("pruning expired sessions failed", "err", err.Error())
	}
	return runtime.Start(ctx, env.Handler(h), runtime.Options{
		Port: cfg.Port, InvokeAPI: cfg.InvokeAPI, Logger: log, Drain: env.Background.Wait,
	})
}

// Migrate is the migrate step: apply the embedded migrations, then seed the
// first admin from ADMIN_EMAIL when there are no users yet.
func Migrate(ctx context.Context, environ []string, stderr io.Writer) error {
	cfg, err := config.LoadMigrate(environ)
	if err != nil {
		return err
	}
	log := NewLogger(stderr, cfg.LogLevel)
	database, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer database.Close()
	return MigrateAndSeed(ctx, database, cfg.AdminEmail, log)
}

// MigrateAndSeed migrates database and seeds adminEmail as the first admin.
func MigrateAndSeed(ctx context.Context, database *db.DB, adminEmail string, log *slog.Logger) error {
	if err := database.Migrate(ctx, log); err != nil {
		return err
	}
	if adminEmail == "" {
		return nil
	}
	email, err := signin.NormaliseEmail(adminEmail)
	if err != nil {
		return fmt.Errorf("ADMIN_EMAIL %q is not a valid email address", adminEmail)
	}
	created, err := database.SeedAdmin(ctx, email)
	if err != nil {
		return err
	}
	if created {
		log.Info("first admin created", "email", email)
	}
	return nil
}

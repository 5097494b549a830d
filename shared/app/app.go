// Package app is what every process of the archive shares around its
// functions: reading the configuration, opening the database, the parts
// several functions use (sessions, the sign-in service, the worker), the middleware every function answers behind, and serving the
// result on the right edge. Handlers never see it: each function takes its
// own Deps, built from these parts by a composition root (a function's
// main, the dev server, a test harness).
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"bandarchive/shared/auth"
	"bandarchive/shared/config"
	"bandarchive/shared/db"
	"bandarchive/shared/httpx"
	"bandarchive/shared/limits"
	"bandarchive/shared/mail"
	"bandarchive/shared/media"
	"bandarchive/shared/routes"
	"bandarchive/shared/runtime"
	"bandarchive/shared/signin"
	"bandarchive/shared/storage"
	"bandarchive/shared/worker"
)

// Parts are what one process opens once and its functions share.
type Parts struct {
	Config   config.Config
	Logger   *slog.Logger
	DB       *db.DB
	Now      func() time.Time
	Sessions *auth.Sessions
	SignIn   *signin.Service
	// Mailer sends mail (the worker's deliveries).
	Mailer mail.Sender
	// Wake tells the worker that a job waits where nothing else would
	// (Lambda); nil where the worker hears of new jobs from the database.
	Wake func(context.Context)
	// Drain runs at graceful shutdown, after the last request (the
	// in-process worker's stop).
	Drain func(context.Context) error

	stop []context.CancelFunc // what Close ends: the sweeps
}

// NewParts assembles the shared parts on an open database. Mail goes
// through mailer.
func NewParts(cfg config.Config, database *db.DB, log *slog.Logger, mailer mail.Sender, now func() time.Time) *Parts {
	p := &Parts{
		Config: cfg, Logger: log, DB: database, Now: now, Mailer: mailer,
		Sessions: &auth.Sessions{DB: database, Secure: cfg.CookieSecure, Now: now},
	}
	p.SignIn = &signin.Service{DB: database, Now: now, Limits: signin.DefaultLimits, Wake: p.wake}
	return p
}

// wake calls Wake, if any: a field read at each call, so a harness may
// set Wake after the parts are made.
func (p *Parts) wake(ctx context.Context) {
	if p.Wake != nil {
		p.Wake(ctx)
	}
}

// NewWorker makes the worker of the job queue on these parts: deliveries
// through the parts' mailer, recordings in store, ffmpeg where the
// process finds one. id names it in the queue (see worker.Config).
func (p *Parts) NewWorker(store *storage.Store, id string) (*worker.Worker, error) {
	ff, ok := media.Find()
	ff.Nice = p.Config.Worker.Nice
	return worker.New(worker.Config{
		DB: p.DB, Store: store, FFmpeg: ff, HasFFmpeg: ok, Log: p.Logger, ID: id,
		Delivery: &signin.Delivery{DB: p.DB, Mailer: p.Mailer, BaseURL: p.Config.BaseURL,
			AppName: p.Config.AppName, Now: p.Now, Log: p.Logger},
	})
}

// UploadBounds are what one member may have unfinished at once: a few
// uploads, and bytes enough for at least one largest file.
func UploadBounds(cfg config.Config) db.UploadBounds {
	return db.UploadBounds{
		Count: limits.MaxUnfinishedUploads,
		Bytes: max(limits.MaxUnfinishedBytes, cfg.Storage.MaxUploadBytes),
	}
}

// MaxResponseBytes bounds one audio answer where the edge limits
// responses (Lambda); 0 leaves answers unbounded.
func MaxResponseBytes(cfg config.Config) int64 {
	if cfg.OnLambda() {
		return limits.LambdaMaxResponseBytes
	}
	return 0
}

// NewLogger returns the JSON logger of every process.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// NewSender picks the mailer from the configuration: Mailersend with a
// token, else the dev mailer that writes mails to the log and each link
// as a plain "Sign in: <url>" line to stderr.
func NewSender(cfg config.Config, log *slog.Logger, stderr io.Writer) mail.Sender {
	if cfg.Mail.APIToken == "" {
		log.Warn("MAILERSEND_API_TOKEN is not set: mails are written to this log instead of sent")
		return mail.NewLogSender(log, stderr)
	}
	return mail.NewMailersend(mail.MailersendConfig{
		APIURL: cfg.Mail.APIURL, Token: cfg.Mail.APIToken,
		From: cfg.Mail.From, FromName: cfg.Mail.FromName, Logger: log,
	})
}

// Open reads the configuration from environ, connects to the database and
// checks that its schema suits this binary: the start of every process
// that serves functions. Its logs name the function the process serves,
// when it serves one.
func Open(ctx context.Context, function string, environ []string, stderr io.Writer) (*Parts, error) {
	cfg, log, err := load(function, environ, stderr)
	if err != nil {
		return nil, err
	}
	database, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := database.CheckSchema(ctx); err != nil {
		database.Close()
		return nil, err
	}
	p := NewParts(cfg, database, log, NewSender(cfg, log, stderr), time.Now)
	if cfg.OnLambda() && cfg.Worker.Function != "" {
		if p.Wake, err = lambdaWake(ctx, cfg.Worker.Function, log); err != nil {
			database.Close()
			return nil, err
		}
	}
	return p, nil
}

// load reads the configuration from environ and makes the process's
// logger, naming the function when the process serves one.
func load(function string, environ []string, stderr io.Writer) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(environ)
	if err != nil {
		return config.Config{}, nil, err
	}
	log := NewLogger(stderr, cfg.LogLevel)
	if function != "" {
		log = log.With("function", function)
	}
	return cfg, log, nil
}

// noDatabase stands in for DATABASE_URL where config.Load asks for it but
// the process opens no database (RunWithoutDatabase).
const noDatabase = "unused://no-database"

// RunWithoutDatabase is Run for a function that needs no database, the
// pages: configuration, then h behind Wrap on the edge the environment
// names. It never connects to the database, so the UI stays up while the
// database is down or being migrated, and it needs no DATABASE_URL (on AWS
// the pages function holds no secret); /healthz answers ok while the
// process serves. Its Parts have no DB, Sessions or SignIn.
func RunWithoutDatabase(ctx context.Context, function string, environ []string, stderr io.Writer, h http.Handler) error {
	// config.Load insists on DATABASE_URL, which every other function
	// needs; a placeholder stands in for it, last so that it wins, and
	// is dropped.
	cfg, log, err := load(function, append(slices.Clip(environ), "DATABASE_URL="+noDatabase), stderr)
	if err != nil {
		return err
	}
	cfg.DatabaseURL = ""
	p := &Parts{Config: cfg, Logger: log, Now: time.Now}
	return runtime.Start(ctx, p.Wrap(h), p.RuntimeOptions())
}

// Stop ends what the parts run in the background of the process (the
// sweeps).
func (p *Parts) Stop() {
	for _, stop := range p.stop {
		stop()
	}
	p.stop = nil
}

// Close stops the parts and closes the database.
func (p *Parts) Close() {
	p.Stop()
	p.DB.Close()
}

// SweepUploads keeps the uploads directory tidy while the process runs:
// leftovers of uploads and deletions whose process died go within two
// sweep intervals (UPLOADS_SWEEP_INTERVAL), whichever process sweeps. On
// Lambda, where nothing runs between invocations, it sweeps once, at
// start-up.
func (p *Parts) SweepUploads(store *storage.Store) {
	every := p.Config.Storage.SweepInterval
	rows := storage.Rows{
		Recording: p.DB.RecordingExists,
		Upload: func(ctx context.Context, id uuid.UUID) (bool, error) {
			return p.DB.UploadLive(ctx, id, p.Now())
		},
	}
	if p.Config.OnLambda() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.sweepOnce(ctx, store, rows); err != nil {
			p.Logger.Warn("sweeping the uploads directory failed", "err", err.Error())
		}
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = append(p.stop, cancel)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if err := p.sweepOnce(ctx, store, rows); err != nil && ctx.Err() == nil {
				p.Logger.Warn("sweeping the uploads directory failed", "err", err.Error())
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// sweepOnce forgets expired resumable uploads, then sweeps the folder.
func (p *Parts) sweepOnce(ctx context.Context, store *storage.Store, rows storage.Rows) error {
	if err := p.DB.PruneUploads(ctx, p.Now()); err != nil {
		return err
	}
	return store.Sweep(ctx, rows, p.Now(), p.Config.Storage.SweepInterval, p.Config.Storage.TrashRetention, p.Logger)
}

// Builder makes one function's handler from the parts: each main's
// composition root.
type Builder func(*Parts) (http.Handler, error)

// Run is the life of one function binary. With the argument "migrate" it
// runs the migrate step instead, so one image serves every function and
// the one-shot migrate service. Otherwise: configuration and database
// (Open), the handler (build), then the edge the environment names
// (Serve).
func Run(ctx context.Context, function string, args []string, environ []string, stderr io.Writer, build Builder) error {
	if len(args) > 0 && args[0] == "migrate" {
		return db.MigrateCommand(ctx, environ, stderr)
	}
	p, err := Open(ctx, function, environ, stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	h, err := build(p)
	if err != nil {
		return err
	}
	return p.Serve(ctx, h)
}

// Wrap puts around h what every function answers behind, on both edges:
// the health check (a ping of the database, when the parts have one), the
// cross-origin check for writes, the read deadlines of the self-hosted
// edge, and httpx.Stack (request id, security headers, request log).
func (p *Parts) Wrap(h http.Handler) http.Handler {
	ping := func(context.Context) error { return nil }
	if p.DB != nil {
		ping = p.DB.Ping
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+routes.HealthPath, httpx.Health(ping))
	mux.Handle("/", auth.CheckOrigin(p.Config.Origin(), h))
	return httpx.Stack(mux, httpx.Options{Logger: p.Logger, ClientIPHeader: p.Config.ClientIPHeader})
}

// Serve serves h behind Wrap until the process is told to stop; graceful
// shutdown waits for the background group.
func (p *Parts) Serve(ctx context.Context, h http.Handler) error {
	if err := p.DB.PruneExpired(ctx, p.Now()); err != nil {
		p.Logger.Warn("pruning expired sessions failed", "err", err.Error())
	}
	return runtime.Start(ctx, p.Wrap(h), p.RuntimeOptions())
}

// RuntimeOptions are the edge's options from the configuration.
func (p *Parts) RuntimeOptions() runtime.Options {
	return runtime.Options{
		Lambda: p.Config.OnLambda(), Port: p.Config.Port, InvokeAPI: p.Config.InvokeAPI,
		Logger: p.Logger, Drain: p.Drain, LargeBody: routes.LargeBody,
	}
}

// Mount builds the functions of builders, keyed by their names in the
// route table, and puts them behind one mux that routes each function's
// rows of the table to it, exactly as Nginx routes them in production. The
// dev server mounts every function this way; a test mounts only the
// functions its scenario goes through. Paths in no mounted row go to
// fallback, or get a JSON 404 when fallback is nil.
func Mount(p *Parts, builders map[string]Builder, fallback http.Handler) (*http.ServeMux, error) {
	handlers := map[string]http.Handler{}
	for name, build := range builders {
		if len(routes.For(name)) == 0 {
			return nil, fmt.Errorf("function %q is not in the route table", name)
		}
		h, err := build(p)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", name, err)
		}
		handlers[name] = h
	}
	var mounted []routes.Route
	for _, r := range routes.All() {
		if _, ok := handlers[r.Function]; ok {
			mounted = append(mounted, r)
		}
	}
	return routes.Mux(mounted, func(r routes.Route) http.Handler { return handlers[r.Function] }, fallback), nil
}

// Combine is Mount as one Builder, for wherever a single function's
// Builder is expected (a test harness, say) but a scenario goes through
// several functions.
func Combine(builders map[string]Builder, fallback http.Handler) Builder {
	return func(p *Parts) (http.Handler, error) { return Mount(p, builders, fallback) }
}

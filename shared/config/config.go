// Package config reads the environment variables of SPEC.md once, in main,
// into plain structs that are passed down. Nothing else reads the
// environment.
package config

import (
	"bandarchive/shared/limits"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is everything a function may need. Each function checks the parts
// it uses; required variables stop start-up with their names.
type Config struct {
	DatabaseURL string `env:"DATABASE_URL,required,notEmpty"`
	// BaseURL is the public origin: links are built from it and the Origin
	// check compares against it. Never derived from the Host header.
	BaseURL        string     `env:"BASE_URL,required,notEmpty"`
	AppName        string     `env:"APP_NAME" envDefault:"bandarchive"`
	AdminEmail     string     `env:"ADMIN_EMAIL"`
	CookieSecure   bool       `env:"COOKIE_SECURE" envDefault:"true"`
	Port           string     `env:"PORT" envDefault:"8080"`
	LogLevel       slog.Level `env:"LOG_LEVEL" envDefault:"info"`
	ClientIPHeader string     `env:"CLIENT_IP_HEADER"`
	InvokeAPI      bool       `env:"INVOKE_API"`
	// LambdaRuntimeAPI is set by a Lambda runtime (AWS, or the runtime
	// interface emulator): then the function is served as a Lambda.
	LambdaRuntimeAPI string `env:"AWS_LAMBDA_RUNTIME_API"`

	Mail    Mail
	Storage Storage
	Worker  Worker
}

// Worker configures the worker of the job queue.
type Worker struct {
	// ID names a worker in the queue, the same across its restarts (it
	// takes back the jobs it was running when killed); the host name when
	// unset. No two running workers may share one.
	ID string `env:"WORKER_ID"`
	// Function is the worker's Lambda function (name or ARN), which the
	// other functions invoke asynchronously after enqueueing a job. Only
	// on Lambda.
	Function string `env:"WORKER_FUNCTION"`
	// Nice is ffmpeg's CPU priority, 0 to 19; above 0 it also gets the
	// idle I/O class. The default, 19, yields to uploads and playback; 0
	// runs it as the worker runs (a machine of its own, or tests on a busy
	// machine).
	Nice int `env:"WORKER_FFMPEG_NICE" envDefault:"19"`
}

// Mail configures Mailersend; with no token the dev mailer logs mails.
type Mail struct {
	APIToken string `env:"MAILERSEND_API_TOKEN"`
	APIURL   string `env:"MAILERSEND_API_URL" envDefault:"https://api.mailersend.com"`
	From     string `env:"MAIL_FROM" envDefault:"archive@localhost"`
	FromName string `env:"MAIL_FROM_NAME"`
}

// Storage configures where recordings live.
type Storage struct {
	UploadsDir          string `env:"UPLOADS_DIR"`
	MaxUploadBytes      int64  `env:"MAX_UPLOAD_BYTES"`
	AccelRedirectPrefix string `env:"ACCEL_REDIRECT_PREFIX"`
	// MaxChunkBytes bounds one PATCH of a resumable upload; 0 takes the
	// edge's default (16 MiB, 4 MiB on Lambda).
	MaxChunkBytes int64 `env:"MAX_CHUNK_BYTES"`
	// SweepInterval is how often leftovers of interrupted uploads and
	// deletions are looked for, and how old they must be to go.
	SweepInterval time.Duration `env:"UPLOADS_SWEEP_INTERVAL" envDefault:"30s"`
	// TrashRetention is how long a deleted recording's files stay in the
	// trash: longer than a backup takes, so that a backup is whole.
	TrashRetention time.Duration `env:"UPLOADS_TRASH_RETENTION" envDefault:"24h"`
}

// Load parses the environment given as KEY=VALUE pairs (os.Environ()).
func Load(environ []string) (Config, error) {
	vars := env.ToMap(environ)
	c, err := env.ParseAsWithOptions[Config](env.Options{Environment: vars})
	if err != nil {
		return Config{}, explain(err)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Config{}, fmt.Errorf("BASE_URL must be an absolute http(s) origin like https://archive.example.org, got %q", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if vars["MAX_UPLOAD_BYTES"] == "" {
		c.Storage.MaxUploadBytes = limits.DefaultMaxUploadBytes
	}
	if c.Storage.MaxChunkBytes == 0 {
		c.Storage.MaxChunkBytes = limits.DefaultMaxChunkBytes
		if c.OnLambda() {
			c.Storage.MaxChunkBytes = limits.LambdaMaxChunkBytes
		}
	}
	if c.Storage.MaxChunkBytes < 0 {
		return Config{}, fmt.Errorf("MAX_CHUNK_BYTES must be positive, got %d", c.Storage.MaxChunkBytes)
	}
	if c.Worker.Nice < 0 || c.Worker.Nice > 19 {
		return Config{}, fmt.Errorf("WORKER_FFMPEG_NICE must be 0 to 19, got %d", c.Worker.Nice)
	}
	if c.Storage.TrashRetention < 0 {
		return Config{}, fmt.Errorf("UPLOADS_TRASH_RETENTION must not be negative, got %s", c.Storage.TrashRetention)
	}
	if c.Storage.SweepInterval <= 0 {
		return Config{}, fmt.Errorf("UPLOADS_SWEEP_INTERVAL must be positive, got %s", c.Storage.SweepInterval)
	}
	if c.Storage.MaxUploadBytes <= 0 {
		return Config{}, fmt.Errorf("MAX_UPLOAD_BYTES must be positive, got %d", c.Storage.MaxUploadBytes)
	}
	return c, nil
}

// explain turns the env library's aggregate error into one line per
// variable, naming each.
func explain(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("configuration: %w", err)
	}
	var msgs []string
	for _, e := range agg.Errors {
		var missing env.VarIsNotSetError
		var empty env.EmptyVarError
		var parse env.ParseError
		switch {
		case errors.As(e, &parse):
			msgs = append(msgs, fmt.Sprintf("%s is not a valid %s: %v", envName(reflect.TypeFor[Config](), parse.Name), parse.Type, parse.Err))
		case errors.As(e, &missing):
			msgs = append(msgs, fmt.Sprintf("%s is required but not set", missing.Key))
		case errors.As(e, &empty):
			msgs = append(msgs, fmt.Sprintf("%s is required but empty", empty.Key))
		default:
			msgs = append(msgs, e.Error())
		}
	}
	return fmt.Errorf("configuration: %s", strings.Join(msgs, "; "))
}

// envName finds the variable behind a struct field, for messages.
func envName(t reflect.Type, field string) string {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Tag.Get("env") == "" {
			if n := envName(f.Type, field); n != field {
				return n
			}
			continue
		}
		if f.Name == field {
			name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
			return name
		}
	}
	return field
}

// OnLambda reports whether the process runs under a Lambda runtime.
func (c Config) OnLambda() bool { return c.LambdaRuntimeAPI != "" }

// Origin is the scheme and host of BaseURL, as browsers send it in Origin.
func (c Config) Origin() string {
	u, _ := url.Parse(c.BaseURL)
	return u.Scheme + "://" + u.Host
}

// Migrate is what the migrate step needs: no public URL, no mail.
type Migrate struct {
	DatabaseURL string     `env:"DATABASE_URL,required,notEmpty"`
	AdminEmail  string     `env:"ADMIN_EMAIL"`
	LogLevel    slog.Level `env:"LOG_LEVEL" envDefault:"info"`
}

// LoadMigrate parses the migrate step's environment.
func LoadMigrate(environ []string) (Migrate, error) {
	c, err := env.ParseAsWithOptions[Migrate](env.Options{Environment: env.ToMap(environ)})
	if err != nil {
		return Migrate{}, explain(err)
	}
	return c, nil
}

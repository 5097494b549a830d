package config_test

import (
	"log/slog"
	"strings"
	"testing"

	"bandarchive/shared/config"
)

const (
	dbURL   = "DATABASE_URL=postgres://archive@db:5432/archive"
	baseURL = "BASE_URL=https://archive.example.org"
)

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    []string // each must appear in the error
	}{
		{
			name:    "nothing set names both required variables",
			environ: nil,
			want:    []string{"DATABASE_URL is required but not set", "BASE_URL is required but not set"},
		},
		{
			name:    "missing DATABASE_URL",
			environ: []string{baseURL},
			want:    []string{"DATABASE_URL is required but not set"},
		},
		{
			name:    "empty BASE_URL",
			environ: []string{dbURL, "BASE_URL="},
			want:    []string{"BASE_URL is required but empty"},
		},
		{
			name:    "BASE_URL without a scheme",
			environ: []string{dbURL, "BASE_URL=archive.example.org"},
			want:    []string{"BASE_URL", `"archive.example.org"`},
		},
		{
			name:    "BASE_URL with another scheme",
			environ: []string{dbURL, "BASE_URL=ftp://archive.example.org"},
			want:    []string{"BASE_URL", "ftp://archive.example.org"},
		},
		{
			name:    "BASE_URL without a host",
			environ: []string{dbURL, "BASE_URL=https://"},
			want:    []string{"BASE_URL"},
		},
		{
			name:    "BASE_URL that does not parse",
			environ: []string{dbURL, "BASE_URL=https://archive example.org"},
			want:    []string{"BASE_URL"},
		},
		{
			name:    "MAX_UPLOAD_BYTES zero",
			environ: []string{dbURL, baseURL, "MAX_UPLOAD_BYTES=0"},
			want:    []string{"MAX_UPLOAD_BYTES must be positive"},
		},
		{
			name:    "MAX_UPLOAD_BYTES not a number",
			environ: []string{dbURL, baseURL, "MAX_UPLOAD_BYTES=500MB"},
			want:    []string{"500MB"},
		},
		{
			name:    "LOG_LEVEL unknown",
			environ: []string{dbURL, baseURL, "LOG_LEVEL=chatty"},
			want:    []string{"chatty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(tt.environ)
			if err == nil {
				t.Fatalf("got %+v and no error, want an error mentioning %q", c, tt.want)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to mention %q", err, want)
				}
			}
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := config.Load([]string{dbURL, baseURL})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"DATABASE_URL", c.DatabaseURL, "postgres://archive@db:5432/archive"},
		{"BASE_URL", c.BaseURL, "https://archive.example.org"},
		{"PORT", c.Port, "8080"},
		{"MAX_UPLOAD_BYTES", c.Storage.MaxUploadBytes, int64(524288000)},
		{"COOKIE_SECURE", c.CookieSecure, true},
		{"MAILERSEND_API_URL", c.Mail.APIURL, "https://api.mailersend.com"},
		{"MAILERSEND_API_TOKEN", c.Mail.APIToken, ""},
		{"APP_NAME", c.AppName, "bandarchive"},
		{"LOG_LEVEL", c.LogLevel, slog.LevelInfo},
		{"INVOKE_API", c.InvokeAPI, false},
		{"CLIENT_IP_HEADER", c.ClientIPHeader, ""},
		{"ACCEL_REDIRECT_PREFIX", c.Storage.AccelRedirectPrefix, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestLoadReadsEachVariable(t *testing.T) {
	tests := []struct {
		name string
		env  string
		got  func(config.Config) any
		want any
	}{
		{"LOG_LEVEL debug", "LOG_LEVEL=debug", func(c config.Config) any { return c.LogLevel }, slog.LevelDebug},
		{"LOG_LEVEL in capitals", "LOG_LEVEL=WARN", func(c config.Config) any { return c.LogLevel }, slog.LevelWarn},
		{"COOKIE_SECURE false for local dev", "COOKIE_SECURE=false", func(c config.Config) any { return c.CookieSecure }, false},
		{"PORT", "PORT=9000", func(c config.Config) any { return c.Port }, "9000"},
		{"MAX_UPLOAD_BYTES", "MAX_UPLOAD_BYTES=1048576", func(c config.Config) any { return c.Storage.MaxUploadBytes }, int64(1 << 20)},
		{"MAILERSEND_API_URL points at a fake", "MAILERSEND_API_URL=http://127.0.0.1:9999", func(c config.Config) any { return c.Mail.APIURL }, "http://127.0.0.1:9999"},
		{"INVOKE_API", "INVOKE_API=true", func(c config.Config) any { return c.InvokeAPI }, true},
		{"UPLOADS_DIR", "UPLOADS_DIR=/srv/uploads", func(c config.Config) any { return c.Storage.UploadsDir }, "/srv/uploads"},
		{"BASE_URL trailing slash trimmed", "BASE_URL=https://archive.example.org/", func(c config.Config) any { return c.BaseURL }, "https://archive.example.org"},
		{"BASE_URL slashes trimmed", "BASE_URL=http://localhost:8080///", func(c config.Config) any { return c.BaseURL }, "http://localhost:8080"},
		{"BASE_URL with a path keeps it", "BASE_URL=https://example.org/band/", func(c config.Config) any { return c.BaseURL }, "https://example.org/band"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The later of two settings wins, as in a shell environment.
			c, err := config.Load([]string{dbURL, baseURL, tt.env})
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(c); got != tt.want {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct {
		baseURL string
		want    string
	}{
		{"https://archive.example.org", "https://archive.example.org"},
		{"https://archive.example.org/", "https://archive.example.org"},
		{"https://example.org/band/archive", "https://example.org"},
		{"http://localhost:8080", "http://localhost:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.baseURL, func(t *testing.T) {
			c, err := config.Load([]string{dbURL, "BASE_URL=" + tt.baseURL})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Origin(); got != tt.want {
				t.Errorf("Origin(): got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadMigrate(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    config.Migrate
		wantErr string
	}{
		{
			name:    "DATABASE_URL is enough",
			environ: []string{dbURL},
			want:    config.Migrate{DatabaseURL: "postgres://archive@db:5432/archive", LogLevel: slog.LevelInfo},
		},
		{
			name:    "admin email and log level",
			environ: []string{dbURL, "ADMIN_EMAIL=boss@example.org", "LOG_LEVEL=debug", "BASE_URL=not a url"},
			want:    config.Migrate{DatabaseURL: "postgres://archive@db:5432/archive", AdminEmail: "boss@example.org", LogLevel: slog.LevelDebug},
		},
		{
			name:    "no DATABASE_URL",
			environ: []string{baseURL, "ADMIN_EMAIL=boss@example.org"},
			wantErr: "DATABASE_URL is required but not set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.LoadMigrate(tt.environ)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLoadNamesTheVariableWithABadValue(t *testing.T) {
	_, err := config.Load([]string{"DATABASE_URL=postgres://x", "BASE_URL=https://a.example", "MAX_UPLOAD_BYTES=500MB"})
	if err == nil || !strings.Contains(err.Error(), "MAX_UPLOAD_BYTES is not a valid") {
		t.Fatalf("err = %v, want one naming MAX_UPLOAD_BYTES", err)
	}
}

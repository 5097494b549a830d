// Package db is the archive's PostgreSQL store: the connection pool, the
// embedded migrations and one file of queries per entity.
package db

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// wordSimilarity is pg_trgm's setting for the <% operator of search.
const wordSimilarity = "pg_trgm.word_similarity_threshold"

// versionTable records the applied migration, in the connection's schema.
const versionTable = "schema_version"

// DB wraps the pool; its methods take ctx first and wrap errors with what
// was being done.
type DB struct {
	pool *pgxpool.Pool
	q    bounded
	// jobs inserts River jobs inside the store's transactions; it works
	// none (the worker does).
	jobs *river.Client[pgx.Tx]
}

// Timeouts against a database that hangs rather than fails: each is short
// enough that a person gets a 503 within seconds, and long enough for any
// query the archive makes (its slowest, the ranking of 2,000 recordings,
// takes about 0.1 s).
const (
	// ConnectTimeout bounds opening one connection.
	ConnectTimeout = 5 * time.Second
	// QueryTimeout bounds one statement or transaction, waiting for a
	// connection from the pool included.
	QueryTimeout = 5 * time.Second
	// StatementTimeout is the server's own bound (statement_timeout), which
	// frees the server of a statement whose client gave up.
	StatementTimeout = 10 * time.Second
)

// Option adjusts the pool before it connects.
type Option func(*pgxpool.Config)

// WithTracer traces every query (tests count queries per request with it).
func WithTracer(t pgx.QueryTracer) Option {
	return func(c *pgxpool.Config) { c.ConnConfig.Tracer = t }
}

// Open connects to url (a postgres:// URL; extra parameters such as
// search_path become session settings) and checks that it answers.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = ConnectTimeout
	}
	if _, set := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !set {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.Itoa(int(StatementTimeout.Milliseconds()))
	}
	// Search forgives a small typo: a word of five letters with one wrong
	// is about 0.45 similar to the word it misspells, and pg_trgm's default
	// of 0.6 would forgive nothing so short.
	if _, set := cfg.ConnConfig.RuntimeParams[wordSimilarity]; !set {
		cfg.ConnConfig.RuntimeParams[wordSimilarity] = "0.45"
	}
	for _, o := range opts {
		o(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s: %w", redact(url), err)
	}
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: quiet})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("prepare job queue: %w", err)
	}
	return &DB{pool: pool, q: bounded{pool: pool, timeout: QueryTimeout}, jobs: jobs}, nil
}

// quiet drops River's own log lines below warnings.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Ping reports whether the database answers; /healthz uses it.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.q.bound(ctx)
	defer cancel()
	return unavailable(db.pool.Ping(ctx))
}

// Pool exposes the pool to tests and benchmarks that need raw SQL.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

func migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// withMigrator runs f with a migrator on one connection of the pool and
// the schema version the database is at.
func (db *DB) withMigrator(ctx context.Context, f func(m *migrate.Migrator, conn *pgx.Conn, version int32) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// Migrations may rewrite whole tables: no statement timeout for them.
	if _, err := conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
		return unavailable(err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "RESET statement_timeout")
	m, err := migrate.NewMigrator(ctx, conn.Conn(), versionTable)
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	if err := m.LoadMigrations(migrations()); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	version, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	return f(m, conn.Conn(), version)
}

// Migrate applies every migration not yet applied, each in its own
// transaction, under the migrator's advisory lock so concurrent starts are
// safe. It logs what it did.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	if err := db.migrateJobs(ctx, log); err != nil {
		return err
	}
	err := db.withMigrator(ctx, func(m *migrate.Migrator, conn *pgx.Conn, from int32) error {
		if err := m.Migrate(ctx); err != nil {
			return err
		}
		marks, err := Marks()
		if err != nil {
			return err
		}
		if err := recordMarks(ctx, conn, marks); err != nil {
			return err
		}
		if to := int32(len(m.Migrations)); log != nil && to != from {
			log.Info("database migrated", "from", from, "to", to)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// jobMigrator migrates River's tables, in the connection's schema.
func (db *DB) jobMigrator() (*rivermigrate.Migrator[pgx.Tx], error) {
	return rivermigrate.New(riverpgxv5.New(db.pool), &rivermigrate.Config{Logger: quiet})
}

// migrateJobs brings River's tables (the job queue) to the version of the
// River this binary carries.
func (db *DB) migrateJobs(ctx context.Context, log *slog.Logger) error {
	m, err := db.jobMigrator()
	if err != nil {
		return fmt.Errorf("prepare job queue migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	if log != nil && len(res.Versions) > 0 {
		log.Info("job queue migrated", "to", res.Versions[len(res.Versions)-1].Version)
	}
	return nil
}

// checkJobs returns an error unless River's tables are migrated.
func (db *DB) checkJobs(ctx context.Context) error {
	m, err := db.jobMigrator()
	if err != nil {
		return err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	if !res.OK {
		return fmt.Errorf("the job queue's tables are not migrated (%s): run the migrate step (go run ./local migrate, or the migrate service)", strings.Join(res.Messages, "; "))
	}
	return nil
}

// CheckSchema returns an error unless the schema suits this binary: every
// migration it carries is applied (functions refuse a stale schema rather
// than migrate on every cold start), and any newer migration is marked
// compatible with older code (see compat.go), so one function can be
// deployed, or rolled back, alone.
func (db *DB) CheckSchema(ctx context.Context) error {
	if err := db.checkJobs(ctx); err != nil {
		return err
	}
	return db.withMigrator(ctx, func(m *migrate.Migrator, conn *pgx.Conn, have int32) error {
		want := int32(len(m.Migrations))
		if have < want {
			return fmt.Errorf("database schema is at version %d, this binary needs %d: run the migrate step (go run ./local migrate, or the migrate service)", have, want)
		}
		if have > want {
			return checkNewer(ctx, conn, have, want)
		}
		return nil
	})
}

// redact drops the password from a connection URL for messages.
func redact(s string) string {
	u, err := neturl.Parse(s)
	if err != nil {
		return "(an unreadable URL)"
	}
	return u.Redacted()
}

// inTx runs f in a transaction that commits when f returns nil.
// The transaction is bounded as one statement is, and its faults are
// marked as the database being away where they are.
func (db *DB) inTx(ctx context.Context, f func(context.Context, pgx.Tx) error) error {
	tx, ctx, cancel, err := db.q.Begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	defer tx.Rollback(ctx)
	if err := f(ctx, tx); err != nil {
		return unavailable(err)
	}
	return unavailable(tx.Commit(ctx))
}

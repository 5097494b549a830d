// Package dbtest gives each test its own freshly migrated schema in the
// real PostgreSQL named by DATABASE_URL (make test starts one). Without it
// a test fails when CI is set and is skipped otherwise.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"bandarchive/shared/db"
)

// URL returns the test database URL, failing (CI) or skipping without one.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("DATABASE_URL is not set: the tests need PostgreSQL (run them with make test)")
		}
		tb.Skip("DATABASE_URL is not set: run the tests with make test")
	}
	return u
}

// NewURL creates an empty schema for tb, dropped at cleanup, and returns a
// connection URL whose search_path points at it.
func NewURL(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to test database: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// New returns a migrated database in a schema of its own, closed at cleanup.
func New(tb testing.TB, opts ...db.Option) *db.DB {
	tb.Helper()
	return OpenMigrated(tb, NewURL(tb), opts...)
}

// OpenMigrated opens url (from NewURL) and migrates it, for a test that
// opens more pools on the same schema.
func OpenMigrated(tb testing.TB, url string, opts ...db.Option) *db.DB {
	tb.Helper()
	d := Open(tb, url, opts...)
	if err := d.Migrate(context.Background(), nil); err != nil {
		tb.Fatalf("migrate test database: %v", err)
	}
	return d
}

// Open opens url (from NewURL), closed at cleanup: a second pool on the
// same schema, as another process would have.
func Open(tb testing.TB, url string, opts ...db.Option) *db.DB {
	tb.Helper()
	d, err := db.Open(context.Background(), url, opts...)
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(d.Close)
	return d
}

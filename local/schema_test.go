package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
)

// TestAFunctionStartsOnANewerSchema starts a function (through invoke,
// which opens and checks the database as every function does) on a schema
// one migration newer than the binary's: it runs when that migration is
// marked compatible with older code, and refuses to start, naming the
// migration, when it is not.
func TestAFunctionStartsOnANewerSchema(t *testing.T) {
	url := dbtest.NewURL(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("BASE_URL", "http://localhost:8080")
	t.Setenv("MAILERSEND_API_TOKEN", "")
	ctx := context.Background()
	var stderr, out bytes.Buffer
	if err := run(ctx, []string{"migrate"}, nil, &stderr, &stderr); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr.String())
	}
	database, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close()
	exec := func(sql string) {
		t.Helper()
		if _, err := database.Pool().Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO schema_compat (version, name, compatible, note)
		SELECT version + 1, 'next.sql', true, 'a new table' FROM schema_version`)
	exec(`UPDATE schema_version SET version = version + 1`)
	if err := run(ctx, []string{"invoke", "session", "events/session/healthz.json"}, nil, &out, &stderr); err != nil || !strings.Contains(out.String(), `"statusCode": 200`) {
		t.Fatalf("on a newer, compatible schema: %v %s\n%s", err, out.String(), stderr.String())
	}
	exec(`UPDATE schema_compat SET compatible = false, note = 'renames recordings.venue' WHERE name = 'next.sql'`)
	err = run(ctx, []string{"invoke", "session", "events/session/healthz.json"}, nil, &out, &stderr)
	if err == nil || !strings.Contains(err.Error(), "next.sql") || !strings.Contains(err.Error(), "renames recordings.venue") {
		t.Fatalf("on a newer, incompatible schema: %v, want a refusal naming next.sql and why", err)
	}
}

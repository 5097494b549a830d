// Command migrate is the migrate step as a function of its own, for AWS
// Lambda, where the database sits in a VPC that the operator's machine may
// not reach: after `sam deploy`, `sam remote invoke MigrateFunction`
// applies the migrations and seeds ADMIN_EMAIL as the first admin while
// there are no users (db.MigrateAndSeed, the work of `local migrate` and
// of `<function> migrate`), and answers {"from": n, "to": m}, the schema
// versions before and after. It takes any JSON event and ignores it; it
// has no HTTP route. Self-hosted (no AWS_LAMBDA_RUNTIME_API) it runs the
// step once, prints the same answer and exits.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"bandarchive/shared/app"
	"bandarchive/shared/config"
	"bandarchive/shared/db"
)

// function names the function in its logs, template.yaml (MigrateFunction)
// and deploy/sam.mk. It is not a function of the route table.
const function = "migrate"

// Result is the answer of one invocation.
type Result struct {
	From int32 `json:"from"`
	To   int32 `json:"to"`
}

func main() {
	if err := run(context.Background(), os.Environ(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "migrate: %v\n", err)
		os.Exit(1)
	}
}

// run reads the migrate step's configuration, then serves invocations
// under a Lambda runtime, or else migrates once and writes the result to
// stdout.
func run(ctx context.Context, environ []string, stdout, stderr io.Writer) error {
	cfg, err := config.LoadMigrate(environ)
	if err != nil {
		return err
	}
	log := app.NewLogger(stderr, cfg.LogLevel).With("function", function)
	if onLambda(environ) {
		lambda.StartWithOptions(func(ctx context.Context, _ json.RawMessage) (Result, error) {
			res, err := migrate(ctx, cfg, log)
			if err != nil {
				log.Error("migrate failed", "err", err.Error())
			}
			return res, err
		}, lambda.WithContext(ctx))
		return nil
	}
	res, err := migrate(ctx, cfg, log)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

// onLambda reports whether a Lambda runtime (AWS, or the runtime interface
// emulator) runs the process, as config.Config.OnLambda does.
func onLambda(environ []string) bool {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "AWS_LAMBDA_RUNTIME_API="); ok && v != "" {
			return true
		}
	}
	return false
}

// migrate connects (for each invocation: a database that was away at the
// last one may be back), migrates and seeds, and reports the versions.
func migrate(ctx context.Context, cfg config.Migrate, log *slog.Logger) (Result, error) {
	database, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return Result{}, err
	}
	defer database.Close()
	from, err := schemaVersion(ctx, database)
	if err != nil {
		return Result{}, err
	}
	if err := database.MigrateAndSeed(ctx, cfg.AdminEmail, log); err != nil {
		return Result{}, err
	}
	to, err := schemaVersion(ctx, database)
	if err != nil {
		return Result{}, err
	}
	return Result{From: from, To: to}, nil
}

// schemaVersion is the version the schema is at, 0 before the first
// migration. It reads the migrator's version table (schema_version in
// shared/db, tern's one-row table), in the connection's search_path as
// the migrations do; the emulator test holds the answer to the
// migrations.
func schemaVersion(ctx context.Context, database *db.DB) (int32, error) {
	var exists bool
	if err := database.Pool().QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int32
	if err := database.Pool().QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

package db

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"bandarchive/shared/config"
	"bandarchive/shared/mail"
)

// MigrateCommand is the migrate step, as every function binary runs it
// with the argument "migrate" (the one-shot migrate service) and as
// `local migrate` runs it: apply the embedded migrations, then seed the
// first admin from ADMIN_EMAIL.
func MigrateCommand(ctx context.Context, environ []string, stderr io.Writer) error {
	cfg, err := config.LoadMigrate(environ)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	database, err := Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer database.Close()
	return database.MigrateAndSeed(ctx, cfg.AdminEmail, log)
}

// MigrateAndSeed migrates the database and makes adminEmail the first
// admin when there are no users yet.
func (db *DB) MigrateAndSeed(ctx context.Context, adminEmail string, log *slog.Logger) error {
	if err := db.Migrate(ctx, log); err != nil {
		return err
	}
	if adminEmail == "" {
		return nil
	}
	email, err := mail.NormaliseAddress(adminEmail)
	if err != nil {
		return fmt.Errorf("ADMIN_EMAIL %q is not a valid email address", adminEmail)
	}
	created, err := db.SeedAdmin(ctx, email)
	if err != nil {
		return err
	}
	if created {
		log.Info("first admin created", "email", email)
	}
	return nil
}

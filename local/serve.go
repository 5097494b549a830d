package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"bandarchive/shared/app"
	"bandarchive/shared/httpx"
	"bandarchive/shared/runtime"
)

// serve runs every function in this one process: migrate, seed, mount by
// the route table, serve until interrupted.
func serve(ctx context.Context, stderr io.Writer) error {
	cfg, database, log, err := app.Open(ctx, stderr)
	if err != nil {
		return err
	}
	defer database.Close()
	if err := app.MigrateAndSeed(ctx, database, cfg.AdminEmail, log); err != nil {
		return err
	}
	env := app.NewEnv(cfg, database, log, nil)
	mux, err := mountAll(env, webHandler("web"))
	if err != nil {
		return err
	}
	if err := database.PruneExpired(ctx, time.Now()); err != nil {
		log.Warn("pruning expired sessions failed", "err", err.Error())
	}
	l, err := net.Listen("tcp", ":"+cfg.Port)
	if err != nil {
		return err
	}
	log.Info("bandarchive is running", "url", cfg.BaseURL, "listen", l.Addr().String())
	return runtime.Serve(ctx, l, env.Handler(mux), runtime.Options{
		Port: cfg.Port, InvokeAPI: cfg.InvokeAPI, Logger: log, Drain: env.Background.Wait,
	})
}

// webHandler serves the static UI from dir when it exists, else the JSON
// not-found answer.
func webHandler(dir string) http.Handler {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return httpx.NotFoundHandler()
	}
	return http.FileServer(http.Dir(dir))
}

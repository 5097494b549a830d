package main

import (
	"context"
	"io"
	"net"
	"os"

	"bandarchive/functions"
	"bandarchive/shared/app"
	"bandarchive/shared/db"
	"bandarchive/shared/pages"
	"bandarchive/shared/runtime"
	"bandarchive/shared/storage"
)

// serve runs every function and the worker in this one process: migrate,
// seed, mount by the route table, serve until interrupted. The pages come from web/ on
// disk, as Nginx serves them in production (an edit shows on reload);
// paths in no row of the route table go to them.
func serve(ctx context.Context, stderr io.Writer) error {
	if err := db.MigrateCommand(ctx, os.Environ(), stderr); err != nil {
		return err
	}
	p, err := app.Open(ctx, "", os.Environ(), stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	mux, err := functions.Mount(pages.Handler(os.DirFS("web")))(p)
	if err != nil {
		return err
	}
	// The worker runs in this process too; shutdown stops it after the
	// last request.
	store, err := storage.Open(p.Config.Storage.UploadsDir)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	w, err := p.NewWorker(store, "serve-"+host)
	if err != nil {
		return err
	}
	if err := w.Start(ctx); err != nil {
		return err
	}
	p.Drain = w.Stop
	l, err := net.Listen("tcp", ":"+p.Config.Port)
	if err != nil {
		return err
	}
	p.Logger.Info("bandarchive is running", "url", p.Config.BaseURL, "listen", l.Addr().String())
	return runtime.Serve(ctx, l, p.Wrap(mux), p.RuntimeOptions())
}

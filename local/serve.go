package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"bandarchive/functions"
	"bandarchive/shared/app"
	"bandarchive/shared/db"
	"bandarchive/shared/httpx"
	"bandarchive/shared/routes"
	"bandarchive/shared/runtime"
)

// serve runs every function in this one process: migrate, seed, mount by
// the route table, serve until interrupted.
func serve(ctx context.Context, stderr io.Writer) error {
	if err := db.MigrateCommand(ctx, os.Environ(), stderr); err != nil {
		return err
	}
	p, err := app.Open(ctx, "", os.Environ(), stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	mux, err := functions.Mount(webHandler("web"))(p)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", ":"+p.Config.Port)
	if err != nil {
		return err
	}
	p.Logger.Info("bandarchive is running", "url", p.Config.BaseURL, "listen", l.Addr().String())
	return runtime.Serve(ctx, l, p.Wrap(mux), p.RuntimeOptions())
}

// webHandler serves the static UI from dir, as Nginx does in production:
// each page of the page table from its file, the assets as files (no
// directory listings), anything else a JSON 404.
func webHandler(dir string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", httpx.NotFoundHandler())
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return mux
	}
	for _, p := range routes.Pages() {
		file := filepath.Join(dir, filepath.FromSlash(p.File))
		mux.HandleFunc("GET "+p.Path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFile(w, r, file)
		})
	}
	files := http.FileServer(noDirs{http.Dir(dir)})
	for _, prefix := range routes.StaticPrefixes {
		mux.Handle("GET "+prefix, files)
	}
	return mux
}

// noDirs hides directories, so the file server lists none.
type noDirs struct{ fs http.FileSystem }

func (n noDirs) Open(name string) (http.File, error) {
	f, err := n.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		return nil, os.ErrNotExist
	}
	return f, nil
}

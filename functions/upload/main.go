// Command upload is the upload function of the route table. Its build is the
// composition root: the function's Deps from the process's parts.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"bandarchive/functions/upload/upload"
	"bandarchive/shared/app"
	"bandarchive/shared/limits"
	"bandarchive/shared/routes"
	"bandarchive/shared/storage"
)

func main() {
	err := app.Run(context.Background(), routes.Upload, os.Args[1:], os.Environ(), os.Stderr, build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "upload: %v\n", err)
		os.Exit(1)
	}
}

func build(p *app.Parts) (http.Handler, error) {
	store, err := storage.Open(p.Config.Storage.UploadsDir)
	if err != nil {
		return nil, err
	}
	p.SweepUploads(store)
	return upload.NewHandler(upload.Deps{
		DB: p.DB, Sessions: p.Sessions, Store: store, Wake: p.Wake,
		MaxUploadBytes: p.Config.Storage.MaxUploadBytes, MaxChunkBytes: p.Config.Storage.MaxChunkBytes,
		UploadExpiry: limits.UploadExpiry, Bounds: app.UploadBounds(p.Config), Now: p.Now,
	}), nil
}

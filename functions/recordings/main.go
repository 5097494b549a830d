// Command recordings is the recordings function of the route table. Its build is the
// composition root: the function's Deps from the process's parts.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"bandarchive/functions/recordings/recordings"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
	"bandarchive/shared/storage"
)

func main() {
	err := app.Run(context.Background(), routes.Recordings, os.Args[1:], os.Environ(), os.Stderr, build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "recordings: %v\n", err)
		os.Exit(1)
	}
}

func build(p *app.Parts) (http.Handler, error) {
	store, err := storage.Open(p.Config.Storage.UploadsDir)
	if err != nil {
		return nil, err
	}
	return recordings.NewHandler(recordings.Deps{
		DB: p.DB, Sessions: p.Sessions, Store: store,
		AccelRedirectPrefix: p.Config.Storage.AccelRedirectPrefix, MaxResponseBytes: app.MaxResponseBytes(p.Config), Wake: p.Wake, Now: p.Now,
	}), nil
}

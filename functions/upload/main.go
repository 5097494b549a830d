// Command upload is the upload function of the route table, one binary of its
// own; its package's Build composes it, as for the processes that serve several.
package main

import (
	"context"
	"fmt"
	"os"

	"bandarchive/functions/upload/upload"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() {
	err := app.Run(context.Background(), routes.Upload, os.Args[1:], os.Environ(), os.Stderr, upload.Build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "upload: %v\n", err)
		os.Exit(1)
	}
}

// Command recordings is the recordings function of the route table, one binary of its
// own; its package's Build composes it, as for the processes that serve several.
package main

import (
	"context"
	"fmt"
	"os"

	"bandarchive/functions/recordings/recordings"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() {
	err := app.Run(context.Background(), routes.Recordings, os.Args[1:], os.Environ(), os.Stderr, recordings.Build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "recordings: %v\n", err)
		os.Exit(1)
	}
}

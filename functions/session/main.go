// Command session is the session function of the route table, one binary of its
// own; its package's Build composes it, as for the processes that serve several.
package main

import (
	"context"
	"fmt"
	"os"

	"bandarchive/functions/session/session"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() {
	err := app.Run(context.Background(), routes.Session, os.Args[1:], os.Environ(), os.Stderr, session.Build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "session: %v\n", err)
		os.Exit(1)
	}
}

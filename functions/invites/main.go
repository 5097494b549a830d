// Command invites is the invites function of the route table, one binary of its
// own; its package's Build composes it, as for the processes that serve several.
package main

import (
	"context"
	"fmt"
	"os"

	"bandarchive/functions/invites/invites"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() {
	err := app.Run(context.Background(), routes.Invites, os.Args[1:], os.Environ(), os.Stderr, invites.Build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "invites: %v\n", err)
		os.Exit(1)
	}
}

// Command send-link is the send-link function of the route table, one binary of its
// own; its package's Build composes it, as for the processes that serve several.
package main

import (
	"context"
	"fmt"
	"os"

	"bandarchive/functions/send-link/sendlink"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() {
	err := app.Run(context.Background(), routes.SendLink, os.Args[1:], os.Environ(), os.Stderr, sendlink.Build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "send-link: %v\n", err)
		os.Exit(1)
	}
}

// Command band is the band function of the route table, one binary of its
// own; its package's Build composes it, as for the processes that serve several.
package main

import (
	"context"
	"fmt"
	"os"

	"bandarchive/functions/band/band"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() {
	err := app.Run(context.Background(), routes.Band, os.Args[1:], os.Environ(), os.Stderr, band.Build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "band: %v\n", err)
		os.Exit(1)
	}
}

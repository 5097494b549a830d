// Command band is the band function of the route table. Its build is the
// composition root: the function's Deps from the process's parts.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"bandarchive/functions/band/band"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() {
	err := app.Run(context.Background(), routes.Band, os.Args[1:], os.Environ(), os.Stderr, build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "band: %v\n", err)
		os.Exit(1)
	}
}

func build(p *app.Parts) (http.Handler, error) {
	return band.NewHandler(band.Deps{DB: p.DB, Sessions: p.Sessions, Now: p.Now}), nil
}

// Command invites is the invites function of the route table. Its build is the
// composition root: the function's Deps from the process's parts.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"bandarchive/functions/invites/invites"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() {
	err := app.Run(context.Background(), routes.Invites, os.Args[1:], os.Environ(), os.Stderr, build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "invites: %v\n", err)
		os.Exit(1)
	}
}

func build(p *app.Parts) (http.Handler, error) {
	return invites.NewHandler(invites.Deps{
		DB: p.DB, Sessions: p.Sessions, SignIn: p.SignIn,
		BaseURL: p.Config.BaseURL, AppName: p.Config.AppName, Now: p.Now,
	}), nil
}

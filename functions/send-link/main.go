// Command send-link is the send-link function of the route table. Its build is the
// composition root: the function's Deps from the process's parts.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"bandarchive/functions/send-link/sendlink"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() {
	err := app.Run(context.Background(), routes.SendLink, os.Args[1:], os.Environ(), os.Stderr, build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "send-link: %v\n", err)
		os.Exit(1)
	}
}

func build(p *app.Parts) (http.Handler, error) {
	return sendlink.NewHandler(sendlink.Deps{SignIn: p.SignIn}), nil
}

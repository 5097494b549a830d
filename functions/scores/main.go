// Command scores is the scores function of the route table. Its build is the
// composition root: the function's Deps from the process's parts.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"bandarchive/functions/scores/scores"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() {
	err := app.Run(context.Background(), routes.Scores, os.Args[1:], os.Environ(), os.Stderr, build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "scores: %v\n", err)
		os.Exit(1)
	}
}

func build(p *app.Parts) (http.Handler, error) {
	return scores.NewHandler(scores.Deps{DB: p.DB, Sessions: p.Sessions, Now: p.Now}), nil
}

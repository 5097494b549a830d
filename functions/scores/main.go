// Command scores is the scores function of the route table, one binary of its
// own; its package's Build composes it, as for the processes that serve several.
package main

import (
	"context"
	"fmt"
	"os"

	"bandarchive/functions/scores/scores"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() {
	err := app.Run(context.Background(), routes.Scores, os.Args[1:], os.Environ(), os.Stderr, scores.Build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "scores: %v\n", err)
		os.Exit(1)
	}
}

// Command pages serves the browser UI on AWS Lambda: the pages of the page
// table and the static files of shared/routes, from the copy of web/
// compiled into the binary (package web), exactly as the dev server serves
// web/ from disk (shared/pages) and Nginx serves it self-hosted. It is not
// a function of the route table and opens no database: the UI loads while
// the database is down, and it holds no secret.
package main

import (
	"context"
	"fmt"
	"os"

	"bandarchive/shared/app"
	"bandarchive/shared/pages"
	"bandarchive/web"
)

func main() {
	err := app.RunWithoutDatabase(context.Background(), pages.Function, os.Environ(), os.Stderr, pages.Handler(web.FS()))
	if err != nil {
		fmt.Fprintf(os.Stderr, "pages: %v\n", err)
		os.Exit(1)
	}
}

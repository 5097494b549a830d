// Package web is the browser UI: static HTML, CSS and JavaScript modules,
// served by the page table of shared/routes. Nginx and the dev server serve
// the files from this directory; FS is the same files compiled into a
// binary, for the pages function that serves them on AWS Lambda, where no
// directory ships beside the bootstrap.
package web

import (
	"embed"
	"io/fs"
)

// files are the pages and the static files, never the Go files of this
// directory (a test in shared/pages holds the list to the directory).
//
//go:embed *.html admin/*.html assets favicon.svg
var files embed.FS

// FS returns the embedded copy of web/, rooted like the directory:
// "index.html", "admin/invites.html", "assets/app.css", "favicon.svg".
func FS() fs.FS { return files }

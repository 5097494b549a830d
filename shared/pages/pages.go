// Package pages serves the browser UI by the page table of shared/routes
// from a file system: web/ on disk in the dev server, the copy compiled
// into the pages function (package web) on AWS Lambda. Nginx serves the
// same table in production, and the three answer alike: each page from its
// file, the static prefixes as files (no directory listings), revalidated
// on every use (Cache-Control: no-cache, and an ETag); a path under the
// API's prefixes or the static ones that nothing answers is a JSON 404, and
// any other path the page of routes.NotFoundPage with status 404.
package pages

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"bandarchive/shared/httpx"
	"bandarchive/shared/routes"
)

// Function is the name of the function that serves the pages on AWS
// (functions/pages, PagesFunction in template.yaml). It is not a function
// of the route table: it serves the page table, which Nginx serves
// self-hosted.
const Function = "pages"

// Handler serves the pages and static files of fsys, rooted like web/. A
// file fsys lacks (web/ missing, say) is a JSON 404, and so is every path
// when fsys lacks the not-found page too.
func Handler(fsys fs.FS) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", notFound(fsys))
	for _, p := range routes.Pages() {
		mux.Handle("GET "+p.Path, serveFile(fsys, func(*http.Request) string { return p.File }))
	}
	for _, prefix := range routes.StaticPrefixes {
		mux.Handle("GET "+prefix, serveFile(fsys, func(r *http.Request) string { return strings.TrimPrefix(r.URL.Path, "/") }))
	}
	return mux
}

// serveFile answers with the file of fsys that name picks for the request.
// Files are small (the largest script is about 20 KiB), so each is read
// whole and its ETag is a hash of its bytes: an embedded file has no
// modification time to validate by.
func serveFile(fsys fs.FS, name func(*http.Request) string) http.Handler {
	notFound := httpx.NotFoundHandler()
	return httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		file := name(r)
		body, err := readFile(fsys, file)
		if errors.Is(err, fs.ErrNotExist) {
			notFound.ServeHTTP(w, r)
			return nil
		}
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
		http.ServeContent(w, r, file, time.Time{}, bytes.NewReader(body))
		return nil
	})
}

// notFound answers a path no page or static file takes: the API's JSON
// 404 under the API's prefixes, where a script is asking; elsewhere a
// person is (a stale link, a typo), who gets the not-found page, with
// status 404 and a way home, whatever the method (as Nginx answers).
func notFound(fsys fs.FS) http.Handler {
	api := httpx.NotFoundHandler()
	return httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if forScripts(r.URL.Path) {
			api.ServeHTTP(w, r)
			return nil
		}
		body, err := readFile(fsys, routes.NotFoundPage)
		if errors.Is(err, fs.ErrNotExist) {
			api.ServeHTTP(w, r)
			return nil
		}
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusNotFound)
		if r.Method != http.MethodHead {
			w.Write(body)
		}
		return nil
	})
}

// forScripts reports whether path is one only scripts and programs ask
// for: the API's, the health check's, the static files'.
func forScripts(path string) bool {
	if routes.UnderAPI(path) || path == routes.HealthPath {
		return true
	}
	for _, prefix := range routes.StaticPrefixes {
		if path == prefix || strings.HasSuffix(prefix, "/") && strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// readFile reads a regular file of fsys; a directory, or a name fs.FS
// does not take, does not exist.
func readFile(fsys fs.FS, name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, fs.ErrNotExist
	}
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fs.ErrNotExist
	}
	return fs.ReadFile(fsys, name)
}

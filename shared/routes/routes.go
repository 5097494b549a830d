// Package routes is the route table of SPEC.md: the single source of truth
// for which function answers which method and path. The dev server, the
// Nginx config, template.yaml and the tests all read it from here.
package routes

import (
	"net/http"
	"strings"
)

// Function names, as used in functions/<name>, template.yaml and events.
const (
	SendLink   = "send-link"
	Verify     = "verify"
	Session    = "session"
	Invites    = "invites"
	Upload     = "upload"
	Recordings = "recordings"
	Scores     = "scores"
	Band       = "band"
)

// Route is one row of the table: a Go 1.22 ServeMux method pattern and the
// function that owns it.
type Route struct {
	Function string
	Method   string
	Path     string // ServeMux path, wildcards as {name}
}

// Pattern is the ServeMux pattern "METHOD /path".
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// LargeBody reports whether the route takes bodies as large as a
// recording: its proxy streams them, and the server bounds them by a
// minimum rate rather than a total time.
func (r Route) LargeBody() bool { return r.Function == Upload && r.Method != "GET" }

// LargeBody reports whether req goes to a route that takes large bodies.
func LargeBody(req *http.Request) bool {
	for _, r := range table {
		if r.LargeBody() && req.Method == r.Method && matches(r.Path, req.URL.Path) {
			return true
		}
	}
	return false
}

// matches reports whether a path fits a table path, whose {wildcards}
// stand for one segment each.
func matches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		if !strings.HasPrefix(p, "{") && p != xs[i] {
			return false
		}
	}
	return true
}

// Table lists every API route. GET patterns also answer HEAD in ServeMux.
var table = []Route{
	{SendLink, "POST", "/auth/send-link"},
	{Verify, "GET", "/auth/verify/{token}"},
	{Verify, "POST", "/auth/verify/{token}"},
	{Session, "GET", "/api/me"},
	{Session, "POST", "/auth/logout"},
	{Session, "GET", "/api/account"},
	{Session, "PATCH", "/api/account"},
	{Session, "DELETE", "/api/account/sessions/{id}"},
	{Session, "POST", "/api/account/sign-out-others"},
	{Invites, "POST", "/api/invites"},
	{Invites, "GET", "/api/invites"},
	{Invites, "DELETE", "/api/invites/{id}"},
	{Invites, "GET", "/auth/join/{token}"},
	{Invites, "POST", "/auth/join/{token}"},
	{Upload, "POST", "/api/upload"},
	{Upload, "OPTIONS", "/api/uploads"},
	{Upload, "POST", "/api/uploads"},
	{Upload, "HEAD", "/api/uploads/{id}"},
	{Upload, "PATCH", "/api/uploads/{id}"},
	{Upload, "DELETE", "/api/uploads/{id}"},
	{Recordings, "GET", "/api/recordings"},
	{Recordings, "GET", "/api/recordings/{id}"},
	{Recordings, "PATCH", "/api/recordings/{id}"},
	{Recordings, "DELETE", "/api/recordings/{id}"},
	{Recordings, "GET", "/api/recordings/{id}/audio"},
	{Recordings, "GET", "/api/recordings/{id}/listen"},
	{Recordings, "POST", "/api/recordings/{id}/process"},
	{Scores, "GET", "/api/scores"},
	{Scores, "PUT", "/api/scores/{recording_id}"},
	{Scores, "DELETE", "/api/scores/{recording_id}"},
	{Band, "GET", "/api/band"},
	{Band, "PATCH", "/api/band/members/{id}"},
}

// HealthPath is answered by every function.
const HealthPath = "/healthz"

// All returns a copy of the whole table.
func All() []Route { return append([]Route(nil), table...) }

// Functions returns the function names in table order, each once.
func Functions() []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range table {
		if !seen[r.Function] {
			seen[r.Function] = true
			names = append(names, r.Function)
		}
	}
	return names
}

// For returns the routes owned by one function.
func For(function string) []Route {
	var rs []Route
	for _, r := range table {
		if r.Function == function {
			rs = append(rs, r)
		}
	}
	return rs
}

// Page is a browser page of the static UI: a path (ServeMux syntax) and the
// file under web/ that answers it. Nginx and the dev server serve these.
type Page struct {
	Path string
	File string
}

var pages = []Page{
	{"/{$}", "index.html"},
	{"/login", "login.html"},
	{"/join/{token}", "join.html"},
	{"/recordings/{id}", "recording.html"},
	{"/upload", "upload.html"},
	{"/admin/invites", "admin/invites.html"},
	{"/band", "band.html"},
	{"/account", "account.html"},
}

// Pages returns the page table.
func Pages() []Page { return append([]Page(nil), pages...) }

// StaticPrefixes are the paths of web/ served as files (scripts, styles,
// icons).
var StaticPrefixes = []string{"/assets/", "/favicon.svg"}

// APIPrefixes are where the API lives: a path under one of them that no
// route answers is the API's JSON 404, never a page.
var APIPrefixes = []string{"/api/", "/auth/"}

// NotFoundPage is the file under web/ that answers a path that is neither
// a page, nor a static file, nor under APIPrefixes: a person who followed
// a stale link or mistyped an address gets a page with a way home, with
// status 404.
const NotFoundPage = "404.html"

// UnderAPI reports whether path lies under one of APIPrefixes.
func UnderAPI(path string) bool {
	for _, p := range APIPrefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

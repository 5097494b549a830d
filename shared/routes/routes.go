// Package routes is the route table of SPEC.md: the single source of truth
// for which function answers which method and path. The dev server, the
// Nginx config, template.yaml and the tests all read it from here.
package routes

// Function names, as used in functions/<name>, template.yaml and events.
const (
	SendLink   = "send-link"
	Verify     = "verify"
	Session    = "session"
	Invites    = "invites"
	Upload     = "upload"
	Recordings = "recordings"
	Scores     = "scores"
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

// Table lists every API route. GET patterns also answer HEAD in ServeMux.
var table = []Route{
	{SendLink, "POST", "/auth/send-link"},
	{Verify, "GET", "/auth/verify/{token}"},
	{Verify, "POST", "/auth/verify/{token}"},
	{Session, "GET", "/api/me"},
	{Session, "POST", "/auth/logout"},
	{Invites, "POST", "/api/invites"},
	{Invites, "GET", "/api/invites"},
	{Invites, "DELETE", "/api/invites/{id}"},
	{Invites, "GET", "/auth/join/{token}"},
	{Invites, "POST", "/auth/join/{token}"},
	{Upload, "POST", "/api/upload"},
	{Recordings, "GET", "/api/recordings"},
	{Recordings, "GET", "/api/recordings/{id}"},
	{Recordings, "PATCH", "/api/recordings/{id}"},
	{Recordings, "DELETE", "/api/recordings/{id}"},
	{Recordings, "GET", "/api/recordings/{id}/audio"},
	{Scores, "GET", "/api/scores"},
	{Scores, "PUT", "/api/scores/{recording_id}"},
	{Scores, "DELETE", "/api/scores/{recording_id}"},
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
}

// Pages returns the page table.
func Pages() []Page { return append([]Page(nil), pages...) }

// StaticPrefixes are the paths of web/ served as files (scripts, styles,
// icons).
var StaticPrefixes = []string{"/assets/", "/favicon.svg"}

package main

import (
	"fmt"
	"net/http"
	"sort"

	"bandarchive/functions/invites/invites"
	"bandarchive/functions/recordings/recordings"
	"bandarchive/functions/scores/scores"
	"bandarchive/functions/send-link/sendlink"
	"bandarchive/functions/session/session"
	"bandarchive/functions/upload/upload"
	"bandarchive/functions/verify/verify"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

// builders maps each function of the route table to its handler's builder.
var builders = map[string]app.Builder{
	routes.SendLink:   sendlink.New,
	routes.Verify:     verify.New,
	routes.Session:    session.New,
	routes.Invites:    invites.New,
	routes.Upload:     upload.New,
	routes.Recordings: recordings.New,
	routes.Scores:     scores.New,
}

// build returns one function's handler, without the shared middleware.
func build(env *app.Env, function string) (http.Handler, error) {
	b, ok := builders[function]
	if !ok {
		names := make([]string, 0, len(builders))
		for n := range builders {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown function %q (have %v)", function, names)
	}
	return b(env)
}

// mountAll puts every function behind one mux, routed by the route table
// exactly as Nginx routes them in production. Paths in no row fall through
// to web, the static UI.
func mountAll(env *app.Env, web http.Handler) (*http.ServeMux, error) {
	return app.Mount(env, builders, web)
}

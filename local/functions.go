package main

import (
	"fmt"
	"net/http"
	"sort"

	"bandarchive/functions/invites/invites"
	"bandarchive/functions/send-link/sendlink"
	"bandarchive/functions/session/session"
	"bandarchive/functions/verify/verify"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

// builders maps each function of the route table to its handler's builder.
var builders = map[string]app.Builder{
	routes.SendLink: sendlink.New,
	routes.Verify:   verify.New,
	routes.Session:  session.New,
	routes.Invites:  invites.New,
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
// exactly as Nginx routes them in production.
func mountAll(env *app.Env) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	handlers := map[string]http.Handler{}
	for _, r := range routes.All() {
		h, ok := handlers[r.Function]
		if !ok {
			var err error
			if h, err = build(env, r.Function); err != nil {
				return nil, err
			}
			handlers[r.Function] = h
		}
		mux.Handle(r.Pattern(), h)
	}
	return mux, nil
}

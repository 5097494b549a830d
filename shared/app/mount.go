package app

import (
	"fmt"
	"net/http"

	"bandarchive/shared/routes"
)

// Mount builds the functions of builders, keyed by their names in the route
// table, and puts them behind one mux that routes each function's rows of
// the table to it, exactly as Nginx routes them in production. The dev
// server mounts every function this way; a test mounts only the functions
// its scenario goes through. Paths in no mounted row go to fallback, or get
// a JSON 404 when fallback is nil.
func Mount(env *Env, builders map[string]Builder, fallback http.Handler) (*http.ServeMux, error) {
	for name := range builders {
		if len(routes.For(name)) == 0 {
			return nil, fmt.Errorf("function %q is not in the route table", name)
		}
	}
	handlers := map[string]http.Handler{}
	for _, name := range routes.Functions() {
		build, ok := builders[name]
		if !ok {
			continue
		}
		h, err := build(env)
		if err != nil {
			return nil, err
		}
		handlers[name] = h
	}
	var mounted []routes.Route
	for _, r := range routes.All() {
		if _, ok := handlers[r.Function]; ok {
			mounted = append(mounted, r)
		}
	}
	return Mux(mounted, func(r routes.Route) http.Handler { return handlers[r.Function] }, fallback), nil
}

// Combine is the Builder of Mount: one handler for the functions of
// builders, for wherever a single function's Builder is expected (a test
// harness, say) but a scenario goes through several functions.
func Combine(builders map[string]Builder, fallback http.Handler) Builder {
	return func(env *Env) (http.Handler, error) { return Mount(env, builders, fallback) }
}

// Package functions builds any function of the route table from one
// process's parts, for the processes that serve several at once: the dev
// server, `local invoke` and the tests. Each function's own main builds
// only itself, the same way, so a deployed binary carries one function.
package functions

import (
	"fmt"
	"net/http"
	"slices"

	"bandarchive/functions/band/band"
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

// builders maps each function of the route table to its composition.
var builders = map[string]app.Builder{
	routes.SendLink:   sendlink.Build,
	routes.Verify:     verify.Build,
	routes.Session:    session.Build,
	routes.Invites:    invites.Build,
	routes.Upload:     upload.Build,
	routes.Recordings: recordings.Build,
	routes.Scores:     scores.Build,
	routes.Band:       band.Build,
}

// Names are the functions this package builds, sorted.
func Names() []string {
	names := make([]string, 0, len(builders))
	for n := range builders {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Builder returns the builder of one function.
func Builder(name string) (app.Builder, error) {
	b, ok := builders[name]
	if !ok {
		return nil, fmt.Errorf("unknown function %q (have %v)", name, Names())
	}
	return b, nil
}

// Mount is app.Combine of the named functions (every function when none
// is named), routed by the route table as Nginx routes them; paths in no
// mounted row go to fallback.
func Mount(fallback http.Handler, names ...string) app.Builder {
	if len(names) == 0 {
		names = Names()
	}
	picked := map[string]app.Builder{}
	for _, n := range names {
		picked[n] = builders[n]
	}
	return app.Combine(picked, fallback)
}

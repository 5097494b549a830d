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
	"bandarchive/shared/limits"
	"bandarchive/shared/routes"
	"bandarchive/shared/storage"
)

// builders maps each function of the route table to its composition.
var builders = map[string]app.Builder{
	routes.SendLink: func(p *app.Parts) (http.Handler, error) {
		return sendlink.NewHandler(sendlink.Deps{SignIn: p.SignIn}), nil
	},
	routes.Verify: func(p *app.Parts) (http.Handler, error) {
		return verify.NewHandler(verify.Deps{DB: p.DB, Sessions: p.Sessions, AppName: p.Config.AppName, Now: p.Now}), nil
	},
	routes.Session: func(p *app.Parts) (http.Handler, error) {
		return session.NewHandler(session.Deps{DB: p.DB, Sessions: p.Sessions, AppName: p.Config.AppName, Now: p.Now}), nil
	},
	routes.Invites: func(p *app.Parts) (http.Handler, error) {
		return invites.NewHandler(invites.Deps{DB: p.DB, Sessions: p.Sessions, SignIn: p.SignIn,
			BaseURL: p.Config.BaseURL, AppName: p.Config.AppName, Now: p.Now}), nil
	},
	routes.Upload: func(p *app.Parts) (http.Handler, error) {
		store, err := storage.Open(p.Config.Storage.UploadsDir)
		if err != nil {
			return nil, err
		}
		p.SweepUploads(store)
		return upload.NewHandler(upload.Deps{DB: p.DB, Sessions: p.Sessions, Store: store, Wake: p.Wake,
			MaxUploadBytes: p.Config.Storage.MaxUploadBytes, MaxChunkBytes: p.Config.Storage.MaxChunkBytes,
			UploadExpiry: limits.UploadExpiry, Bounds: app.UploadBounds(p.Config), Now: p.Now}), nil
	},
	routes.Recordings: func(p *app.Parts) (http.Handler, error) {
		store, err := storage.Open(p.Config.Storage.UploadsDir)
		if err != nil {
			return nil, err
		}
		return recordings.NewHandler(recordings.Deps{DB: p.DB, Sessions: p.Sessions, Store: store,
			AccelRedirectPrefix: p.Config.Storage.AccelRedirectPrefix, MaxResponseBytes: app.MaxResponseBytes(p.Config), Wake: p.Wake, Now: p.Now}), nil
	},
	routes.Scores: func(p *app.Parts) (http.Handler, error) {
		return scores.NewHandler(scores.Deps{DB: p.DB, Sessions: p.Sessions, Now: p.Now}), nil
	},
	routes.Band: func(p *app.Parts) (http.Handler, error) {
		return band.NewHandler(band.Deps{DB: p.DB, Sessions: p.Sessions, Now: p.Now}), nil
	},
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

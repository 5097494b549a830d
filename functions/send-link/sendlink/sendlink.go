// Package sendlink answers POST /auth/send-link: it mails a sign-in link to
// a member and answers everyone alike.
package sendlink

import (
	"net/http"

	"bandarchive/shared/app"
	"bandarchive/shared/httpx"
	"bandarchive/shared/routes"
	"bandarchive/shared/signin"
)

// Deps are what the send-link function uses.
type Deps struct {
	SignIn *signin.Service
}

type handler struct {
	signIn *signin.Service
}

// Build is the send-link function's composition root: its Deps from the
// process's parts. Its own binary (main.go) and the processes that serve
// several functions (package functions) both build it here.
func Build(p *app.Parts) (http.Handler, error) {
	return NewHandler(Deps{SignIn: p.SignIn}), nil
}

// NewHandler returns the send-link function's handler.
func NewHandler(d Deps) http.Handler {
	h := &handler{signIn: d.SignIn}
	return routes.MustServe(routes.SendLink, map[string]http.Handler{
		"POST /auth/send-link": httpx.HandlerFunc(h.sendLink),
	})
}

func (h *handler) sendLink(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
		// Next is the page to return to after signing in (see
		// signin.Service.SendLink).
		Next string `json:"next"`
	}
	if err := httpx.DecodeInput(w, r, &in); err != nil {
		return err
	}
	email, err := signin.NormaliseEmail(in.Email)
	if err != nil {
		return err
	}
	return h.signIn.SendLink(w, r, email, nil, in.Next)
}

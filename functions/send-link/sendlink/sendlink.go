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

type handler struct {
	signIn *signin.Service
}

// New returns the send-link function's handler.
func New(env *app.Env) (http.Handler, error) {
	h := &handler{signIn: env.SignIn}
	return app.Routes(routes.SendLink, map[string]http.Handler{
		"POST /auth/send-link": httpx.HandlerFunc(h.sendLink),
	})
}

func (h *handler) sendLink(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := httpx.DecodeInput(w, r, &in); err != nil {
		return err
	}
	email, err := signin.NormaliseEmail(in.Email)
	if err != nil {
		return err
	}
	return h.signIn.SendLink(w, r, email, nil)
}

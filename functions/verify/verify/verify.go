// Package verify answers the magic link. GET shows a page with one button
// and consumes nothing, because mail scanners fetch links before people do;
// POST consumes the link, starts the session and sends the member home.
package verify

import (
	"errors"
	"net/http"

	"bandarchive/shared/app"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/httpx"
	"bandarchive/shared/routes"
)

type handler struct {
	env *app.Env
}

// New returns the verify function's handler.
func New(env *app.Env) (http.Handler, error) {
	h := &handler{env: env}
	return app.Routes(routes.Verify, map[string]http.Handler{
		"GET /auth/verify/{token}":  httpx.HandlerFunc(h.confirm),
		"POST /auth/verify/{token}": httpx.HandlerFunc(h.signIn),
	})
}

// confirm shows the page with the button, or at once the page that says
// the link is spent; either way it only reads.
func (h *handler) confirm(w http.ResponseWriter, r *http.Request) error {
	t, err := auth.ParseToken(r.PathValue("token"))
	if err != nil {
		return render(w, http.StatusBadRequest, malformedPage(h.env.Config.AppName))
	}
	usable, err := h.env.DB.LinkUsable(r.Context(), t.Hash(), h.env.Now())
	if err != nil {
		return err
	}
	if !usable {
		return render(w, http.StatusNotFound, expiredPage(h.env.Config.AppName))
	}
	return render(w, http.StatusOK, confirmPage(h.env.Config.AppName))
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) error {
	t, err := auth.ParseToken(r.PathValue("token"))
	if err != nil {
		return render(w, http.StatusBadRequest, malformedPage(h.env.Config.AppName))
	}
	session := auth.NewToken()
	u, err := h.env.DB.ConsumeLink(r.Context(), t.Hash(), h.env.Now(), db.NewSession{
		TokenHash: session.Hash(), TTL: auth.SessionTTL, UserAgent: r.UserAgent(),
	})
	switch {
	case errors.Is(err, db.ErrLinkInvalid):
		return render(w, http.StatusNotFound, expiredPage(h.env.Config.AppName))
	case errors.Is(err, db.ErrInviteGone):
		return render(w, http.StatusNotFound, inviteGonePage(h.env.Config.AppName))
	case err != nil:
		return err
	}
	httpx.Logger(r.Context()).Info("signed in", "user_id", u.ID)
	h.env.Sessions.SetCookie(w, session)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

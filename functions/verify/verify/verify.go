// Package verify answers the magic link. GET shows a page with one button
// and consumes nothing, because mail scanners fetch links before people do;
// POST consumes the link, starts the session and sends the member home.
package verify

import (
	"errors"
	"net/http"
	"time"

	"bandarchive/shared/app"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/httpx"
	"bandarchive/shared/routes"
)

// Deps are what the verify function uses.
type Deps struct {
	DB       *db.DB
	Sessions *auth.Sessions
	AppName  string
	Now      func() time.Time
}

type handler struct {
	Deps
}

// Build is the verify function's composition root: its Deps from the
// process's parts. Its own binary (main.go) and the processes that serve
// several functions (package functions) both build it here.
func Build(p *app.Parts) (http.Handler, error) {
	return NewHandler(Deps{DB: p.DB, Sessions: p.Sessions, AppName: p.Config.AppName, Now: p.Now}), nil
}

// NewHandler returns the verify function's handler.
func NewHandler(d Deps) http.Handler {
	h := &handler{d}
	return routes.MustServe(routes.Verify, map[string]http.Handler{
		"GET /auth/verify/{token}":  httpx.HandlerFunc(h.confirm),
		"POST /auth/verify/{token}": httpx.HandlerFunc(h.signIn),
	})
}

// confirm shows the page with the button, or at once the page that says
// the link is spent; either way it only reads.
func (h *handler) confirm(w http.ResponseWriter, r *http.Request) error {
	t, err := auth.ParseToken(r.PathValue("token"))
	if err != nil {
		return render(w, http.StatusBadRequest, malformedPage(h.AppName))
	}
	usable, err := h.DB.LinkUsable(r.Context(), t.Hash(), h.Now())
	if err != nil {
		return err
	}
	if !usable {
		return render(w, http.StatusNotFound, expiredPage(h.AppName))
	}
	return render(w, http.StatusOK, confirmPage(h.AppName))
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) error {
	t, err := auth.ParseToken(r.PathValue("token"))
	if err != nil {
		return render(w, http.StatusBadRequest, malformedPage(h.AppName))
	}
	session := auth.NewToken()
	u, next, err := h.DB.ConsumeLink(r.Context(), t.Hash(), h.Now(), db.NewSession{
		TokenHash: session.Hash(), TTL: auth.SessionTTL, UserAgent: r.UserAgent(), IP: httpx.ClientIP(r),
	})
	switch {
	case errors.Is(err, db.ErrLinkInvalid):
		return render(w, http.StatusNotFound, expiredPage(h.AppName))
	case errors.Is(err, db.ErrInviteGone):
		return render(w, http.StatusNotFound, inviteGonePage(h.AppName))
	case err != nil:
		return err
	}
	httpx.Logger(r.Context()).Info("signed in", "user_id", u.ID)
	h.Sessions.SetCookie(w, session)
	// Back to the page the person was on, checked again as it is used.
	http.Redirect(w, r, auth.SafeNext(next), http.StatusSeeOther)
	return nil
}

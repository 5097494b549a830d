// Package session answers who is signed in (GET /api/me) and ends a session
// (POST /auth/logout).
package session

import (
	"net/http"
	"strings"

	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/httpx"
	"bandarchive/shared/routes"
)

// Deps are what the session function uses.
type Deps struct {
	DB       *db.DB
	Sessions *auth.Sessions
}

type handler struct {
	Deps
}

// NewHandler returns the session function's handler.
func NewHandler(d Deps) http.Handler {
	h := &handler{d}
	return routes.MustServe(routes.Session, map[string]http.Handler{
		"GET /api/me":       d.Sessions.RequireMember(httpx.HandlerFunc(h.me)),
		"POST /auth/logout": httpx.HandlerFunc(h.logout),
	})
}

// me is the signed-in member, with the number of active members the UI
// shows as "N of M have scored this".
func (h *handler) me(w http.ResponseWriter, r *http.Request) error {
	u, _ := auth.UserFrom(r.Context())
	members, err := h.DB.ActiveMembers(r.Context())
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"user": u, "members": members})
}

// logout deletes the session at once and clears the cookie. It succeeds
// without a session too, so a second click is harmless.
func (h *handler) logout(w http.ResponseWriter, r *http.Request) error {
	if t, err := auth.TokenFrom(r); err == nil {
		if err := h.DB.DeleteSession(r.Context(), t.Hash()); err != nil {
			return err
		}
	}
	h.Sessions.ClearCookie(w)
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Redirect(w, r, "/login", http.StatusSeeOther) // a plain form post
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

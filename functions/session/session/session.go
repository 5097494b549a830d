// Package session answers who is signed in (GET /api/me), ends a session
// (POST /auth/logout), and is a member's account: their name, and the
// devices they are signed in on, which they can sign out one by one or all
// but the one in hand.
package session

import (
	"net/http"
	"strings"
	"time"

	"bandarchive/shared/app"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/httpx"
	"bandarchive/shared/metadata"
	"bandarchive/shared/routes"
	"bandarchive/shared/useragent"
)

// Deps are what the session function uses.
type Deps struct {
	DB       *db.DB
	Sessions *auth.Sessions
	AppName  string // the archive's name, which the player shows as the artist
	Now      func() time.Time
}

type handler struct {
	Deps
}

// Build is the session function's composition root: its Deps from the
// process's parts. Its own binary (main.go) and the processes that serve
// several functions (package functions) both build it here.
func Build(p *app.Parts) (http.Handler, error) {
	return NewHandler(Deps{DB: p.DB, Sessions: p.Sessions, AppName: p.Config.AppName, Now: p.Now}), nil
}

// NewHandler returns the session function's handler.
func NewHandler(d Deps) http.Handler {
	h := &handler{d}
	member := func(f httpx.HandlerFunc) http.Handler { return d.Sessions.RequireMember(f) }
	return routes.MustServe(routes.Session, map[string]http.Handler{
		"GET /api/me":                       member(h.me),
		"POST /auth/logout":                 httpx.HandlerFunc(h.logout),
		"GET /api/account":                  member(h.account),
		"PATCH /api/account":                member(h.rename),
		"DELETE /api/account/sessions/{id}": member(h.signOutDevice),
		"POST /api/account/sign-out-others": member(h.signOutOthers),
	})
}

// me is the signed-in member, with the number of active members the UI
// shows as "N of M have scored this", and the archive's name.
func (h *handler) me(w http.ResponseWriter, r *http.Request) error {
	u, _ := auth.UserFrom(r.Context())
	members, err := h.DB.ActiveMembers(r.Context())
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"user": u, "members": members, "app_name": h.AppName})
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

// device is a signed-in session as the account page shows it: the raw
// User-Agent and what it says in words.
type device struct {
	db.Device
	Name string `json:"name"` // "Firefox on Linux"
}

// current is the hash of the request's session token; RequireMember has
// checked that there is one.
func current(r *http.Request) []byte {
	t, _ := auth.TokenFrom(r)
	return t.Hash()
}

// account is me and my signed-in devices, this one first.
func (h *handler) account(w http.ResponseWriter, r *http.Request) error {
	u, _ := auth.UserFrom(r.Context())
	return h.answerAccount(w, r, u)
}

func (h *handler) answerAccount(w http.ResponseWriter, r *http.Request, u db.User) error {
	ds, err := h.DB.Devices(r.Context(), u.ID, current(r), h.Now())
	if err != nil {
		return err
	}
	devices := make([]device, 0, len(ds))
	for _, d := range ds {
		devices = append(devices, device{Device: d, Name: useragent.Describe(d.UserAgent)})
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"user": u, "devices": devices})
}

// rename changes my display name, validated as the join form's is, and
// answers the account.
func (h *handler) rename(w http.ResponseWriter, r *http.Request) error {
	u, _ := auth.UserFrom(r.Context())
	var name *string
	if err := httpx.DecodeFields(w, r, map[string]any{"display_name": &name}); err != nil {
		return err
	}
	if name != nil {
		valid, err := metadata.DisplayName(*name)
		if err != nil {
			return err
		}
		if u, err = h.DB.SetDisplayName(r.Context(), u.ID, valid); err != nil {
			return err
		}
	}
	return h.answerAccount(w, r, u)
}

// signOutDevice ends one of my sessions; ending this one also clears
// its cookie. Another member's session is not found, as one that does
// not exist.
func (h *handler) signOutDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathUUID(r, "id", db.ErrNoDevice)
	if err != nil {
		return err
	}
	u, _ := auth.UserFrom(r.Context())
	this, err := h.DB.SignOutDevice(r.Context(), u.ID, id, current(r))
	if err != nil {
		return err
	}
	if this {
		h.Sessions.ClearCookie(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// signOutOthers ends every session of mine but this one.
func (h *handler) signOutOthers(w http.ResponseWriter, r *http.Request) error {
	u, _ := auth.UserFrom(r.Context())
	n, err := h.DB.SignOutOthers(r.Context(), u.ID, current(r))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"signed_out": n})
}

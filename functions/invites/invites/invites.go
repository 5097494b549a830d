// Package invites lets admins create, list and revoke invites, and lets the
// holder of an invite ask for the magic link that makes them a member.
package invites

import (
	"errors"
	"net/http"
	"time"

	"bandarchive/shared/app"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
	"bandarchive/shared/metadata"
	"bandarchive/shared/routes"
	"bandarchive/shared/signin"
)

// InviteTTL is how long an invite can be used.
const InviteTTL = 7 * 24 * time.Hour

// Deps are what the invites function uses.
type Deps struct {
	DB       *db.DB
	Sessions *auth.Sessions
	SignIn   *signin.Service
	// BaseURL is the public origin invite links are built from.
	BaseURL string
	AppName string
	Now     func() time.Time
}

type handler struct {
	Deps
}

// Build is the invites function's composition root: its Deps from the
// process's parts. Its own binary (main.go) and the processes that serve
// several functions (package functions) both build it here.
func Build(p *app.Parts) (http.Handler, error) {
	return NewHandler(Deps{DB: p.DB, Sessions: p.Sessions, SignIn: p.SignIn,
		BaseURL: p.Config.BaseURL, AppName: p.Config.AppName, Now: p.Now}), nil
}

// NewHandler returns the invites function's handler.
func NewHandler(d Deps) http.Handler {
	h := &handler{d}
	admin := d.Sessions.RequireAdmin
	return routes.MustServe(routes.Invites, map[string]http.Handler{
		"POST /api/invites":        admin(httpx.HandlerFunc(h.create)),
		"GET /api/invites":         admin(httpx.HandlerFunc(h.list)),
		"DELETE /api/invites/{id}": admin(httpx.HandlerFunc(h.revoke)),
		"GET /auth/join/{token}":   httpx.HandlerFunc(h.check),
		"POST /auth/join/{token}":  httpx.HandlerFunc(h.join),
	})
}

// inviteView is an invite as the admin page shows it.
type inviteView struct {
	db.Invite
	Status string `json:"status"` // pending, used, revoked, expired
	// URL is only known right after creation: only the hash is stored.
	URL string `json:"url,omitempty"`
}

func (h *handler) view(i db.Invite) inviteView {
	status := "pending"
	switch {
	case i.UsedAt != nil:
		status = "used"
	case i.RevokedAt != nil:
		status = "revoked"
	case !h.Now().Before(i.ExpiresAt):
		status = "expired"
	}
	return inviteView{Invite: i, Status: status}
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) error {
	u, _ := auth.UserFrom(r.Context())
	t := auth.NewToken()
	i, err := h.DB.CreateInvite(r.Context(), t.Hash(), u.ID, h.Now(), InviteTTL)
	if err != nil {
		return err
	}
	v := h.view(i)
	v.URL = h.BaseURL + "/join/" + t.String()
	return httpx.WriteJSON(w, http.StatusCreated, v)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	invites, err := h.DB.ListInvites(r.Context())
	if err != nil {
		return err
	}
	views := make([]inviteView, 0, len(invites))
	for _, i := range invites {
		views = append(views, h.view(i))
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"invites": views})
}

func (h *handler) revoke(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathUUID(r, "id", db.ErrNoInvite)
	if err != nil {
		return err
	}
	if _, err = h.DB.RevokeInvite(r.Context(), id, h.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var errInviteGone = errs.Errorf(errs.NotFound, "This invite is not valid: it was used, revoked, or has expired. Ask a band admin for a new one.")

// usableInvite finds the invite behind the path's token.
func (h *handler) usableInvite(r *http.Request) (db.Invite, error) {
	t, err := auth.ParseToken(r.PathValue("token"))
	if err != nil {
		return db.Invite{}, errInviteGone
	}
	i, err := h.DB.InviteByTokenHash(r.Context(), t.Hash())
	if errors.Is(err, db.ErrNoInvite) || err == nil && !i.Usable(h.Now()) {
		return db.Invite{}, errInviteGone
	}
	return i, err
}

func (h *handler) check(w http.ResponseWriter, r *http.Request) error {
	i, err := h.usableInvite(r)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"valid": true, "expires_at": i.ExpiresAt, "app_name": h.AppName,
	})
}

func (h *handler) join(w http.ResponseWriter, r *http.Request) error {
	i, err := h.usableInvite(r)
	if err != nil {
		return err
	}
	var in struct {
		Email       string `json:"email"`
		DisplayName string `json:"display_name"`
	}
	if err := httpx.DecodeInput(w, r, &in); err != nil {
		return err
	}
	email, err := signin.NormaliseEmail(in.Email)
	if err != nil {
		return err
	}
	name, err := metadata.DisplayName(in.DisplayName)
	if err != nil {
		return err
	}
	return h.SignIn.SendLink(w, r, email, &signin.Join{InviteID: i.ID, DisplayName: name}, "")
}

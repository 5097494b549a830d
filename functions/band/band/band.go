// Package band answers the band page: every member, when and by whose
// invite they joined, how much they uploaded and scored; and lets an admin
// disable or enable a member and make or unmake an admin.
package band

import (
	"net/http"
	"time"

	"bandarchive/shared/app"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
	"bandarchive/shared/routes"
)

// Deps are what the band function uses.
type Deps struct {
	DB       *db.DB
	Sessions *auth.Sessions
	Now      func() time.Time
}

type handler struct {
	Deps
}

// Build is the band function's composition root: its Deps from the
// process's parts. Its own binary (main.go) and the processes that serve
// several functions (package functions) both build it here.
func Build(p *app.Parts) (http.Handler, error) {
	return NewHandler(Deps{DB: p.DB, Sessions: p.Sessions, Now: p.Now}), nil
}

// NewHandler returns the band function's handler.
func NewHandler(d Deps) http.Handler {
	h := &handler{d}
	return routes.MustServe(routes.Band, map[string]http.Handler{
		"GET /api/band":                d.Sessions.RequireMember(httpx.HandlerFunc(h.list)),
		"PATCH /api/band/members/{id}": d.Sessions.RequireAdmin(httpx.HandlerFunc(h.change)),
	})
}

// seenBy is a member as viewer may see them: the email and the invite
// used are an admin's to see.
func seenBy(viewer db.User, m db.BandMember) db.BandMember {
	if !viewer.IsAdmin() {
		m.Email, m.Invite = "", nil
	}
	return m
}

// list is the band: the members in the order they joined, with the
// number of active admins (the page greys out what the last one may not
// do).
func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	viewer, _ := auth.UserFrom(r.Context())
	members, err := h.DB.Band(r.Context())
	if err != nil {
		return err
	}
	admins := 0
	for i, m := range members {
		if m.Role == db.RoleAdmin && m.DisabledAt == nil {
			admins++
		}
		members[i] = seenBy(viewer, m)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"members": members, "active_admins": admins})
}

// change applies {"disabled": bool} and/or {"role": "admin"|"member"} to
// a member and answers the member as the band page lists them.
func (h *handler) change(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathUUID(r, "id", db.ErrNoMember)
	if err != nil {
		return err
	}
	var c db.MemberChange
	if err := httpx.DecodeFields(w, r, map[string]any{"disabled": &c.Disabled, "role": &c.Role}); err != nil {
		return err
	}
	if c.Role != nil && *c.Role != db.RoleAdmin && *c.Role != db.RoleMember {
		return errs.InvalidField("role", "A role is %q or %q.", db.RoleAdmin, db.RoleMember)
	}
	actor, _ := auth.UserFrom(r.Context())
	if c.Role != nil || c.Disabled != nil {
		if err := h.DB.ChangeMember(r.Context(), actor.ID, id, c, h.Now()); err != nil {
			return err
		}
	}
	m, err := h.DB.BandMember(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, seenBy(actor, m))
}

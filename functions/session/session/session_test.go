package session_test

import (
	"net/http"
	"strings"
	"testing"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/db"
	"bandarchive/shared/routes"
)

func TestMeAndLogout(t *testing.T) {
	apptest.Both(t, functions.Mount(nil, routes.Session), func(t *testing.T, h *apptest.Harness) {
		h.User("bob@band.example", "Bob", db.RoleMember)
		ann, u := h.Member("ann@band.example", db.RoleAdmin)

		var me struct {
			User    db.User `json:"user"`
			Members int     `json:"members"`
			AppName string  `json:"app_name"`
		}
		r := ann.Call("GET", "/api/me", nil)
		r.JSON(t, &me)
		if r.Status != http.StatusOK || me.User.ID != u.ID || me.User.Role != "admin" || me.Members != 2 || me.AppName != "bandarchive" {
			t.Fatalf("/api/me: %d %s, want ann, admin, 2 members, the archive's name", r.Status, r.Body)
		}
		if ct := r.Header.Get("Cache-Control"); ct != "no-store" {
			t.Errorf("/api/me Cache-Control %q, want no-store", ct)
		}

		// A browser's plain form post goes back to the sign-in page.
		req := apptest.NewRequest(t, "POST", "/auth/logout", nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		r = ann.Do(req)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
			t.Fatalf("form logout: %d to %q, want 303 to /login", r.Status, r.Header.Get("Location"))
		}
		if !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") || ann.Session() != "" {
			t.Errorf("logout kept the cookie: %q", r.Header.Get("Set-Cookie"))
		}
		if r := ann.Call("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("/api/me after logout: %d, want 401", r.Status)
		}
		// Logging out again, or without ever signing in, is harmless.
		for _, b := range []*apptest.Browser{ann, h.Browser("192.0.2.99")} {
			if r := b.Call("POST", "/auth/logout", nil); r.Status != http.StatusNoContent {
				t.Errorf("logout without a session: %d, want 204", r.Status)
			}
		}
		// A cookie that is not a token is refused and cleared.
		odd := h.Browser("192.0.2.98")
		odd.SetSession("not-a-token")
		if r := odd.Call("GET", "/api/me", nil); r.Status != http.StatusUnauthorized || odd.Session() != "" {
			t.Errorf("malformed cookie: %d, cookie kept %q", r.Status, odd.Session())
		}
	})
}

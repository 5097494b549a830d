package invites_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/db"
	"bandarchive/shared/routes"
)

// archive mounts what joining goes through: invites, verify for the link
// the joiner is mailed, and session to see who joined.
var archive = functions.Mount(nil, routes.Verify, routes.Session, routes.Invites)

type inviteJSON struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Status string `json:"status"`
}

func createInvite(t *testing.T, admin *apptest.Browser) (inviteJSON, string) {
	t.Helper()
	r := admin.Call("POST", "/api/invites", nil)
	var inv inviteJSON
	r.JSON(t, &inv)
	if r.Status != http.StatusCreated || inv.Status != "pending" || !strings.HasPrefix(inv.URL, apptest.BaseURL+"/join/") {
		t.Fatalf("create invite: %d %s", r.Status, r.Body)
	}
	return inv, inv.URL[len(apptest.BaseURL+"/join/"):]
}

func TestInviteAdminOnly(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		member := h.Browser("203.0.113.1")
		member.SignInAs(h.User("ann@band.example", "Ann", db.RoleMember))
		stranger := h.Browser("203.0.113.2")
		for _, c := range []struct{ method, path string }{
			{"POST", "/api/invites"}, {"GET", "/api/invites"}, {"DELETE", "/api/invites/" + "00000000-0000-0000-0000-000000000000"},
		} {
			if r := member.Call(c.method, c.path, nil); r.Status != http.StatusForbidden || r.ErrorCode() != "forbidden" {
				t.Errorf("member %s %s: %d %s, want 403", c.method, c.path, r.Status, r.Body)
			}
			if r := stranger.Call(c.method, c.path, nil); r.Status != http.StatusUnauthorized {
				t.Errorf("signed out %s %s: %d, want 401", c.method, c.path, r.Status)
			}
		}
	})
}

func TestJoinByInvite(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		admin := h.Browser("203.0.113.10")
		admin.SignInAs(h.User("boss@band.example", "Boss", db.RoleAdmin))
		inv, token := createInvite(t, admin)

		joiner := h.Browser("203.0.113.11")
		if r := joiner.Call("GET", "/auth/join/"+token, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"valid":true`) {
			t.Fatalf("check invite: %d %s", r.Status, r.Body)
		}
		for _, bad := range []map[string]string{
			{"email": "carl@band.example", "display_name": "  "},
			{"email": "carl@band.example", "display_name": strings.Repeat("x", 81)},
			{"email": "not an email", "display_name": "Carl"},
		} {
			if r := joiner.Call("POST", "/auth/join/"+token, bad); r.Status != http.StatusBadRequest {
				t.Errorf("join with %v: %d, want 400", bad, r.Status)
			}
		}
		r := joiner.Call("POST", "/auth/join/"+token, map[string]string{"email": "Carl@Band.example", "display_name": " Carl   the  Drummer "})
		if r.Status != http.StatusAccepted {
			t.Fatalf("join: %d %s", r.Status, r.Body)
		}
		if n := h.RowCount("users"); n != 1 {
			t.Fatalf("users before the link is verified: %d, want 1", n)
		}
		sent := h.Mail.WaitSent(t, 1, time.Minute)
		if sent[0].To[0].Email != "carl@band.example" || !strings.Contains(sent[0].Subject, "Welcome") {
			t.Fatalf("join mail: to %v subject %q", sent[0].To, sent[0].Subject)
		}
		if r := joiner.Call("POST", h.LinkPath(1), nil); r.Status != http.StatusSeeOther {
			t.Fatalf("verify join link: %d %s", r.Status, r.Body)
		}
		var me struct{ User db.User }
		joiner.Call("GET", "/api/me", nil).JSON(t, &me)
		if me.User.Email != "carl@band.example" || me.User.DisplayName != "Carl the Drummer" || me.User.Role != "member" {
			t.Fatalf("joined user = %+v", me.User)
		}

		// The invite is used up.
		if r := h.Browser("203.0.113.12").Call("GET", "/auth/join/"+token, nil); r.Status != http.StatusNotFound {
			t.Fatalf("check a used invite: %d, want 404", r.Status)
		}
		if r := h.Browser("203.0.113.12").Call("POST", "/auth/join/"+token, map[string]string{"email": "dan@band.example", "display_name": "Dan"}); r.Status != http.StatusNotFound {
			t.Fatalf("join with a used invite: %d, want 404", r.Status)
		}
		var list struct{ Invites []inviteJSON }
		admin.Call("GET", "/api/invites", nil).JSON(t, &list)
		if len(list.Invites) != 1 || list.Invites[0].ID != inv.ID || list.Invites[0].Status != "used" || list.Invites[0].URL != "" {
			t.Fatalf("invite list = %+v, want the one invite, used, without its URL", list.Invites)
		}
		if r := admin.Call("DELETE", "/api/invites/"+inv.ID, nil); r.Status != http.StatusNotFound {
			t.Fatalf("revoke a used invite: %d, want 404", r.Status)
		}
	})
}

func TestInviteExpiryAndRevocation(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		admin := h.Browser("203.0.113.20")
		admin.SignInAs(h.User("boss@band.example", "Boss", db.RoleAdmin))
		joiner := h.Browser("203.0.113.21")
		join := func(token string) apptest.Response {
			return joiner.Call("POST", "/auth/join/"+token, map[string]string{"email": "eve@band.example", "display_name": "Eve"})
		}

		// Revoked after the link was mailed: the link no longer makes a member.
		inv, token := createInvite(t, admin)
		if r := join(token); r.Status != http.StatusAccepted {
			t.Fatalf("join: %d", r.Status)
		}
		link := h.LinkPath(1)
		if r := admin.Call("DELETE", "/api/invites/"+inv.ID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if r := joiner.Call("POST", link, nil); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), "invite is no longer valid") {
			t.Fatalf("verify after revoke: %d %s", r.Status, r.Body)
		}
		if r := join(token); r.Status != http.StatusNotFound {
			t.Fatalf("join a revoked invite: %d, want 404", r.Status)
		}
		if n := h.RowCount("users"); n != 1 {
			t.Fatalf("users = %d, want only the admin", n)
		}

		// Expired after 7 days.
		_, token = createInvite(t, admin)
		h.Clock.Advance(7*24*time.Hour + time.Second)
		if r := joiner.Call("GET", "/auth/join/"+token, nil); r.Status != http.StatusNotFound {
			t.Fatalf("check an expired invite: %d, want 404", r.Status)
		}
		for _, p := range []string{"/api/invites/not-a-uuid", "/api/invites/00000000-0000-0000-0000-000000000000"} {
			if r := admin.Call("DELETE", p, nil); r.Status != http.StatusNotFound {
				t.Errorf("DELETE %s: %d, want 404", p, r.Status)
			}
		}
		if r := joiner.Call("GET", "/auth/join/garbage", nil); r.Status != http.StatusNotFound {
			t.Errorf("malformed invite token: %d, want 404", r.Status)
		}
	})
}

func TestJoinWithAMemberEmailSignsInWithoutUsingTheInvite(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		admin := h.Browser("203.0.113.30")
		admin.SignInAs(h.User("boss@band.example", "Boss", db.RoleAdmin))
		h.User("ann@band.example", "Ann", db.RoleMember)
		_, token := createInvite(t, admin)
		b := h.Browser("203.0.113.31")
		b.Call("POST", "/auth/join/"+token, map[string]string{"email": "ann@band.example", "display_name": "Someone"})
		if r := b.Call("POST", h.LinkPath(1), nil); r.Status != http.StatusSeeOther {
			t.Fatalf("verify: %d", r.Status)
		}
		var me struct{ User db.User }
		b.Call("GET", "/api/me", nil).JSON(t, &me)
		if me.User.DisplayName != "Ann" {
			t.Fatalf("signed in as %+v, want Ann unchanged", me.User)
		}
		if r := b.Call("GET", "/auth/join/"+token, nil); r.Status != http.StatusOK {
			t.Fatalf("the invite was used up by an existing member: %d", r.Status)
		}
	})
}

package band_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/db"
	"bandarchive/shared/routes"
)

// archive mounts the band with what a member does besides: signing in,
// uploading, scoring.
var archive = functions.Mount(nil, routes.Band, routes.Session, routes.SendLink, routes.Verify,
	routes.Upload, routes.Recordings, routes.Scores)

// member is a member as GET /api/band lists them.
type member struct {
	ID          string     `json:"id"`
	Email       string     `json:"email"`
	DisplayName string     `json:"display_name"`
	Role        string     `json:"role"`
	JoinedAt    time.Time  `json:"joined_at"`
	DisabledAt  *time.Time `json:"disabled_at"`
	InvitedBy   *struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
	} `json:"invited_by"`
	Recordings int `json:"recordings"`
	Scores     int `json:"scores"`
	Invite     *struct {
		ID        string    `json:"id"`
		Email     string    `json:"email"`
		CreatedAt time.Time `json:"created_at"`
		CreatedBy struct {
			DisplayName string `json:"display_name"`
		} `json:"created_by"`
	} `json:"invite"`
}

type bandPage struct {
	Members      []member `json:"members"`
	ActiveAdmins int      `json:"active_admins"`
}

func getBand(t *testing.T, b *apptest.Browser) bandPage {
	t.Helper()
	r := b.Call("GET", "/api/band", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /api/band: %d %s", r.Status, r.Body)
	}
	var p bandPage
	r.JSON(t, &p)
	return p
}

// joinedByInvite makes an invite of by's and a member who joined with it.
func joinedByInvite(t *testing.T, h *apptest.Harness, by db.User, email, name string) db.User {
	t.Helper()
	ctx := context.Background()
	inv, err := h.DB.CreateInvite(ctx, []byte("invite-"+email), by.ID, h.Clock.Now().Add(-time.Hour), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u := h.User(email, name, db.RoleMember)
	if _, err := h.DB.Pool().Exec(ctx, `UPDATE invites SET used_at = $2, used_by = $3 WHERE id = $1`, inv.ID, h.Clock.Now(), u.ID); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestBandListsMembersAndShowsInvitesToAdminsOnly(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		ann, annUser := h.Member("ann@band.example", db.RoleAdmin)
		bobUser := joinedByInvite(t, h, annUser, "bob@band.example", "Bob")
		bob := h.Browser("203.0.113.77")
		bob.SignInAs(bobUser)
		rec := bob.UploadOK(map[string]string{"title": "Gig"}, "gig.wav", apptest.WAV(500, 8000))
		bob.UploadOK(map[string]string{"title": "Rehearsal"}, "reh.wav", apptest.WAV(501, 8000))
		bob.Score(rec.ID, 4)
		ann.Score(rec.ID, 5)

		p := getBand(t, bob)
		if len(p.Members) != 2 || p.ActiveAdmins != 1 {
			t.Fatalf("band as bob: %+v, want 2 members, 1 admin", p)
		}
		a, b := p.Members[0], p.Members[1]
		if a.ID != annUser.ID.String() || a.Role != "admin" || a.Recordings != 0 || a.Scores != 1 || a.InvitedBy != nil {
			t.Errorf("ann as bob sees her: %+v", a)
		}
		if b.DisplayName != "Bob" || b.Recordings != 2 || b.Scores != 1 || b.InvitedBy == nil || b.InvitedBy.DisplayName != "ann" ||
			b.JoinedAt.IsZero() || b.DisabledAt != nil {
			t.Errorf("bob as bob sees him: %+v", b)
		}
		for _, m := range p.Members {
			if m.Email != "" || m.Invite != nil {
				t.Errorf("a member sees %s's email %q or invite %+v", m.DisplayName, m.Email, m.Invite)
			}
		}

		p = getBand(t, ann)
		b = p.Members[1]
		if b.Email != "bob@band.example" || b.Invite == nil || b.Invite.Email != "bob@band.example" ||
			b.Invite.CreatedBy.DisplayName != "ann" || b.Invite.CreatedAt.IsZero() {
			t.Errorf("bob as the admin sees him: %+v (invite %+v)", b, b.Invite)
		}
		if p.Members[0].Email != "ann@band.example" || p.Members[0].Invite != nil {
			t.Errorf("the first admin, who used no invite: %+v", p.Members[0])
		}
		if r := h.Browser("192.0.2.9").Call("GET", "/api/band", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("signed out: %d, want 401", r.Status)
		}
	})
}

func TestDisablingEndsSessionsLinksAndScoresAndEnablingRestores(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		ann, _ := h.Member("ann@band.example", db.RoleAdmin)
		bob, bobUser := h.Member("bob@band.example", db.RoleMember)
		phone := h.Browser("198.51.100.4")
		phone.SignInAs(bobUser)
		rec := ann.UploadOK(map[string]string{"title": "Gig"}, "gig.wav", apptest.WAV(600, 8000))
		ann.Score(rec.ID, 2)
		bob.Score(rec.ID, 4)
		// A link bob asked for and has not used yet.
		if r := h.Browser("198.51.100.5").SendLink(bobUser.Email); r.Status != http.StatusAccepted {
			t.Fatalf("send-link: %d", r.Status)
		}
		link := h.LinkPath(1)

		path := "/api/band/members/" + bobUser.ID.String()
		r := ann.Call("PATCH", path, map[string]any{"disabled": true})
		var m member
		r.JSON(t, &m)
		if r.Status != http.StatusOK || m.DisabledAt == nil || m.ID != bobUser.ID.String() {
			t.Fatalf("disable bob: %d %s", r.Status, r.Body)
		}
		for name, b := range map[string]*apptest.Browser{"laptop": bob, "phone": phone} {
			if r := b.Call("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
				t.Errorf("bob's %s after he was disabled: %d, want 401", name, r.Status)
			}
		}
		if n := h.RowCount("sessions WHERE user_id = '" + bobUser.ID.String() + "'"); n != 0 {
			t.Errorf("%d sessions of bob's left", n)
		}
		if r := h.Browser("198.51.100.5").Call("POST", link, nil); r.Status == http.StatusSeeOther {
			t.Error("bob's unused link still signs him in")
		}
		var got apptest.Recording
		ann.Call("GET", "/api/recordings/"+rec.ID, nil).JSON(t, &got)
		if got.Count != 1 || *got.Average != 2 || got.Members != 1 {
			t.Errorf("bob's score still counts: %+v", got)
		}
		if p := getBand(t, ann); p.Members[1].DisabledAt == nil {
			t.Errorf("the band does not show bob disabled: %+v", p.Members[1])
		}

		r = ann.Call("PATCH", path, map[string]any{"disabled": false})
		r.JSON(t, &m)
		if r.Status != http.StatusOK || m.DisabledAt != nil {
			t.Fatalf("enable bob: %d %s", r.Status, r.Body)
		}
		ann.Call("GET", "/api/recordings/"+rec.ID, nil).JSON(t, &got)
		if got.Count != 2 || *got.Average != 3 || got.Members != 2 {
			t.Errorf("bob's score does not count again: %+v", got)
		}
		if r := bob.Call("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("an old session came back with bob: %d", r.Status)
		}
		again := h.Browser("198.51.100.6")
		again.SignIn(bobUser.Email, 2)
		if r := again.Call("GET", "/api/me", nil); r.Status != http.StatusOK {
			t.Errorf("bob cannot sign in again: %d", r.Status)
		}
	})
}

func TestAdminRules(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		ann, annUser := h.Member("ann@band.example", db.RoleAdmin)
		bob, bobUser := h.Member("bob@band.example", db.RoleMember)
		patch := func(b *apptest.Browser, who db.User, body map[string]any) apptest.Response {
			t.Helper()
			return b.Call("PATCH", "/api/band/members/"+who.ID.String(), body)
		}
		conflict := func(r apptest.Response, words string) {
			t.Helper()
			if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), words) {
				t.Errorf("%d %s, want 409 saying %q", r.Status, r.Body, words)
			}
		}
		conflict(patch(ann, annUser, map[string]any{"role": "member"}), "at least one active admin")
		conflict(patch(ann, annUser, map[string]any{"disabled": true}), "cannot disable yourself")
		conflict(patch(ann, annUser, map[string]any{"disabled": true, "role": "admin"}), "cannot disable yourself")
		if r := patch(bob, annUser, map[string]any{"disabled": true}); r.Status != http.StatusForbidden {
			t.Errorf("a member disables the admin: %d, want 403", r.Status)
		}
		if r := patch(bob, bobUser, map[string]any{"role": "admin"}); r.Status != http.StatusForbidden {
			t.Errorf("a member makes themself admin: %d, want 403", r.Status)
		}
		for _, body := range []map[string]any{{"role": "owner"}, {"role": nil}, {"disabled": "yes"}, {"email": "x@y.example"}} {
			if r := patch(ann, bobUser, body); r.Status != http.StatusBadRequest {
				t.Errorf("%v: %d, want 400", body, r.Status)
			}
		}
		if r := ann.Call("PATCH", "/api/band/members/00000000-0000-0000-0000-000000000000", map[string]any{"role": "admin"}); r.Status != http.StatusNotFound {
			t.Errorf("nobody: %d, want 404", r.Status)
		}
		if p := getBand(t, ann); p.Members[0].Role != "admin" || p.Members[0].DisabledAt != nil || p.ActiveAdmins != 1 {
			t.Fatalf("a refused change changed ann: %+v", p)
		}

		// Once bob is admin, ann may step down; then she is a member.
		if r := patch(ann, bobUser, map[string]any{"role": "admin"}); r.Status != http.StatusOK {
			t.Fatalf("make bob admin: %d %s", r.Status, r.Body)
		}
		if p := getBand(t, bob); p.ActiveAdmins != 2 || p.Members[1].Email == "" {
			t.Errorf("bob as admin: %+v", p)
		}
		if r := patch(ann, annUser, map[string]any{"role": "member"}); r.Status != http.StatusOK {
			t.Fatalf("ann steps down: %d %s", r.Status, r.Body)
		}
		if r := patch(ann, bobUser, map[string]any{"role": "member"}); r.Status != http.StatusForbidden {
			t.Errorf("ann, no longer admin: %d, want 403", r.Status)
		}
		conflict(patch(bob, bobUser, map[string]any{"role": "member"}), "at least one active admin")
		// Disabling an admin who is not the last one is allowed.
		if r := patch(bob, annUser, map[string]any{"role": "admin"}); r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		if r := patch(bob, annUser, map[string]any{"disabled": true}); r.Status != http.StatusOK {
			t.Errorf("disable the other admin: %d %s", r.Status, r.Body)
		}
		if p := getBand(t, bob); p.ActiveAdmins != 1 {
			t.Errorf("active admins after disabling ann: %d, want 1", p.ActiveAdmins)
		}
	})
}

// TestTwoAdminsUnmakingEachOtherAtOnce: over HTTP, as two admins in two
// browsers would: each round ends with one admin, one 200 and one refusal.
func TestTwoAdminsUnmakingEachOtherAtOnce(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		a, aUser := h.Member("a@band.example", db.RoleAdmin)
		b, bUser := h.Member("bb@band.example", db.RoleAdmin)
		for round := range 10 {
			if _, err := h.DB.Pool().Exec(context.Background(), `UPDATE users SET role = 'admin'`); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			start := make(chan struct{})
			for i, c := range []struct {
				who    *apptest.Browser
				target db.User
			}{{a, bUser}, {b, aUser}} {
				wg.Go(func() {
					<-start
					statuses[i] = c.who.Call("PATCH", "/api/band/members/"+c.target.ID.String(), map[string]any{"role": "member"}).Status
				})
			}
			close(start)
			wg.Wait()
			if p := getBand(t, a); p.ActiveAdmins != 1 {
				if p = getBand(t, b); p.ActiveAdmins != 1 {
					t.Fatalf("round %d: %d admins left (answers %v), want 1", round, p.ActiveAdmins, statuses)
				}
			}
			ok := 0
			for _, s := range statuses {
				switch s {
				case http.StatusOK:
					ok++
				case http.StatusForbidden, http.StatusConflict:
				default:
					t.Fatalf("round %d: answers %v", round, statuses)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: answers %v, want one 200", round, statuses)
			}
		}
	})
}

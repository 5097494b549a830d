package verify_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/routes"
)

// archive mounts what a sign-in goes through: send-link for the link,
// verify, and session to see who is signed in.
var archive = functions.Mount(nil, routes.SendLink, routes.Verify, routes.Session)

func TestVerifyRefusesBadLinks(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		h.User("ann@band.example", "Ann", db.RoleMember)
		b := h.Browser("192.0.2.20")
		b.Call("POST", "/auth/send-link", map[string]string{"email": "ann@band.example"})
		link := h.LinkPath(1)

		tests := []struct {
			name       string
			path       string
			advance    time.Duration
			wantStatus int
			wantText   string
		}{
			{"malformed", "/auth/verify/not-a-token", 0, http.StatusBadRequest, "not complete"},
			{"too long", link + "A", 0, http.StatusBadRequest, "not complete"},
			{"unknown", "/auth/verify/" + auth.NewToken().String(), 0, http.StatusNotFound, "expired or was already used"},
			{"expired", link, 10*time.Minute + time.Second, http.StatusNotFound, "expired or was already used"},
		}
		for _, tt := range tests {
			h.Clock.Advance(tt.advance)
			r := b.Call("POST", tt.path, nil)
			if r.Status != tt.wantStatus || !strings.Contains(string(r.Body), tt.wantText) {
				t.Errorf("%s: %d %q, want %d containing %q", tt.name, r.Status, r.Body, tt.wantStatus, tt.wantText)
			}
			if strings.Contains(string(r.Body), "goroutine") || strings.Contains(string(r.Body), "SQL") {
				t.Errorf("%s: the page leaks internals: %s", tt.name, r.Body)
			}
		}
		if b.Session() != "" {
			t.Fatal("a bad link created a session")
		}
	})
}

func TestRacingVerifyGivesOneSession(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		h.User("ann@band.example", "Ann", db.RoleMember)
		h.Browser("192.0.2.30").Call("POST", "/auth/send-link", map[string]string{"email": "ann@band.example"})
		link := h.LinkPath(1)
		const n = 8
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { statuses[i] = h.Browser("192.0.2.31").Call("POST", link, nil).Status })
		}
		wg.Wait()
		won := 0
		for _, s := range statuses {
			switch s {
			case http.StatusSeeOther:
				won++
			case http.StatusNotFound:
			default:
				t.Errorf("racing POST got %d", s)
			}
		}
		var sessions int
		h.DB.Pool().QueryRow(context.Background(), `SELECT count(*) FROM sessions`).Scan(&sessions)
		if won != 1 || sessions != 1 {
			t.Fatalf("%d racing POSTs: %d succeeded, %d sessions; want exactly 1 and 1", n, won, sessions)
		}
	})
}

func TestDisabledUserIsSignedOutAtOnce(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		u := h.User("ann@band.example", "Ann", db.RoleMember)
		b := h.Browser("192.0.2.40")
		b.SignIn("ann@band.example", 1)
		if r := b.Call("GET", "/api/me", nil); r.Status != http.StatusOK {
			t.Fatalf("/api/me: %d", r.Status)
		}
		// A link requested before the disabling must not work after it.
		b.Call("POST", "/auth/send-link", map[string]string{"email": "ann@band.example"})
		link := h.LinkPath(2)
		if err := h.DB.DisableUser(context.Background(), u.ID, h.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if r := b.Call("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("/api/me after disabling: %d, want 401", r.Status)
		}
		if r := h.Browser("192.0.2.41").Call("POST", link, nil); r.Status != http.StatusNotFound {
			t.Fatalf("verify for a disabled user: %d, want 404", r.Status)
		}
		// And a disabled user is mailed nothing.
		b.Call("POST", "/auth/send-link", map[string]string{"email": "ann@band.example"})
		h.WaitJobs() // any delivery has happened by now
		if got := len(h.Mail.Sent()); got != 2 {
			t.Fatalf("mails sent = %d, want 2 (none to the disabled user)", got)
		}
	})
}

// TestSignInReturnsWhereItWasAsked: a link asked for from a page of the
// archive signs in and returns there, filters and position included; any
// other place (another site however spelled, or the sign-in routes)
// returns to the start instead. No open redirect.
func TestSignInReturnsWhereItWasAsked(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		h.User("ann@band.example", "Ann", db.RoleMember)
		for i, tt := range []struct{ next, want string }{
			{"/recordings/6f1c2b9e-0000-4000-8000-000000000001?from=list#t=2:10", "/recordings/6f1c2b9e-0000-4000-8000-000000000001?from=list#t=2:10"},
			{"/?q=lantern+2003&sort=-recorded_date", "/?q=lantern+2003&sort=-recorded_date"},
			{"//evil.example", "/"},
			{"https://evil.example/", "/"},
			{"/\\evil.example", "/"},
			{"/%2F%2Fevil.example", "/"},
			{"%2F%2Fevil.example", "/"},
			{"/%5Cevil.example", "/"},
			{"/auth/logout", "/"},
			{"", "/"},
		} {
			b := h.Browser("192.0.2." + strconv.Itoa(60+i))
			body := map[string]string{"email": "ann@band.example"}
			if tt.next != "" {
				body["next"] = tt.next
			}
			if r := b.Call("POST", "/auth/send-link", body); r.Status != http.StatusAccepted {
				t.Fatalf("send-link with next %q: %d %s", tt.next, r.Status, r.Body)
			}
			r := b.Call("POST", h.LinkPath(i+1), nil)
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != tt.want {
				t.Errorf("next %q: %d to %q, want 303 to %q", tt.next, r.Status, r.Header.Get("Location"), tt.want)
			}
		}
	})
}

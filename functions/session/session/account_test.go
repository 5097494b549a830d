package session_test

import (
	"context"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/routes"
)

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

type account struct {
	User    db.User `json:"user"`
	Devices []struct {
		ID         string    `json:"id"`
		Name       string    `json:"name"`
		UserAgent  string    `json:"user_agent"`
		IP         string    `json:"ip"`
		CreatedAt  time.Time `json:"created_at"`
		LastSeenAt time.Time `json:"last_seen_at"`
		Current    bool      `json:"current"`
	} `json:"devices"`
}

func getAccount(t *testing.T, b *apptest.Browser) (account, apptest.Response) {
	t.Helper()
	r := b.Call("GET", "/api/account", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /api/account: %d %s", r.Status, r.Body)
	}
	var a account
	r.JSON(t, &a)
	return a, r
}

// device signs u in on a browser of its own with the User-Agent ua, as
// the verify step stores it, and returns the browser and the token's hash.
func device(t *testing.T, h *apptest.Harness, u db.User, ip, ua string, at time.Time) (*apptest.Browser, []byte) {
	t.Helper()
	tok := auth.NewToken()
	if _, err := h.DB.Pool().Exec(context.Background(), `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at, user_agent, ip)
		VALUES (gen_random_uuid(), $1, $2, $3, $4, $3, $5, $6)`, tok.Hash(), u.ID, at, at.Add(auth.SessionTTL), ua, ip); err != nil {
		t.Fatal(err)
	}
	b := h.Browser(ip)
	b.SetSession(tok.String())
	return b, tok.Hash()
}

func TestAccountListsDevicesWithoutSecrets(t *testing.T) {
	apptest.Both(t, functions.Mount(nil, routes.Session), func(t *testing.T, h *apptest.Harness) {
		ann := h.User("ann@band.example", "Ann", db.RoleMember)
		now := h.Clock.Now()
		laptop, laptopHash := device(t, h, ann, "192.0.2.10", firefox, now.Add(-48*time.Hour))
		_, phoneHash := device(t, h, ann, "192.0.2.11", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", now.Add(-time.Hour))
		// Expired: not a device any more.
		h.DB.Pool().Exec(context.Background(), `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
			VALUES (gen_random_uuid(), 'old', $1, $2, $3, $2)`, ann.ID, now.Add(-40*24*time.Hour), now.Add(-10*24*time.Hour))
		device(t, h, h.User("bob@band.example", "Bob", db.RoleMember), "192.0.2.12", firefox, now) // someone else's

		a, r := getAccount(t, laptop)
		if a.User.ID != ann.ID || len(a.Devices) != 2 {
			t.Fatalf("account: %s, want ann with 2 devices", r.Body)
		}
		this, phone := a.Devices[0], a.Devices[1]
		if !this.Current || this.Name != "Firefox on Linux" || this.UserAgent != firefox || this.IP != "192.0.2.10" ||
			!this.CreatedAt.Equal(now.Add(-48*time.Hour)) {
			t.Errorf("this device: %+v", this)
		}
		if phone.Current || phone.Name != "Safari on iPhone" || !phone.LastSeenAt.Equal(now.Add(-time.Hour)) {
			t.Errorf("the phone: %+v", phone)
		}
		for _, secret := range [][]byte{laptopHash, phoneHash} {
			if strings.Contains(string(r.Body), hex.EncodeToString(secret)) || strings.Contains(string(r.Body), "token") {
				t.Fatalf("the answer carries a token hash: %s", r.Body)
			}
		}
		// A device's id signs nobody in.
		stranger := h.Browser("192.0.2.99")
		stranger.SetSession(phone.ID)
		if r := stranger.Call("GET", "/api/account", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("a device id as the cookie: %d, want 401", r.Status)
		}
	})
}

// TestLastSeenKeptFreshWithoutAWriteEachRequest: a session in use is seen
// again within minutes, but a request soon after the last one writes
// nothing.
func TestLastSeenKeptFreshWithoutAWriteEachRequest(t *testing.T) {
	apptest.Both(t, functions.Mount(nil, routes.Session), func(t *testing.T, h *apptest.Harness) {
		ann := h.User("ann@band.example", "Ann", db.RoleMember)
		start := h.Clock.Now()
		b, _ := device(t, h, ann, "192.0.2.10", firefox, start)
		seen := func() time.Time {
			a, _ := getAccount(t, b)
			return a.Devices[0].LastSeenAt
		}
		h.Clock.Advance(2 * time.Minute)
		if got := seen(); !got.Equal(start) {
			t.Errorf("2 minutes on, last seen %v, want %v (no write yet)", got, start)
		}
		h.Clock.Advance(4 * time.Minute)
		before := h.Queries.Count()
		b.Call("GET", "/api/me", nil)
		touched := h.Queries.Count() - before
		if got := seen(); !got.Equal(h.Clock.Now()) {
			t.Errorf("6 minutes on, last seen %v, want %v", got, h.Clock.Now())
		}
		before = h.Queries.Count()
		b.Call("GET", "/api/me", nil)
		if quiet := h.Queries.Count() - before; quiet != touched-1 {
			t.Errorf("a request right after: %d statements, the one that touched %d; want one fewer", quiet, touched)
		}
	})
}

func TestDisplayName(t *testing.T) {
	apptest.Both(t, functions.Mount(nil, routes.Session), func(t *testing.T, h *apptest.Harness) {
		ann, _ := h.Member("ann@band.example", db.RoleMember)
		var a account
		r := ann.Call("PATCH", "/api/account", map[string]any{"display_name": "  Ann \t Smith  "})
		r.JSON(t, &a)
		if r.Status != http.StatusOK || a.User.DisplayName != "Ann Smith" || len(a.Devices) != 1 {
			t.Fatalf("rename: %d %s, want Ann Smith", r.Status, r.Body)
		}
		var me struct{ User db.User }
		ann.Call("GET", "/api/me", nil).JSON(t, &me)
		if me.User.DisplayName != "Ann Smith" {
			t.Errorf("/api/me after the rename: %q", me.User.DisplayName)
		}
		for _, c := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"empty", map[string]any{"display_name": "   "}, "display_name"},
			{"81 characters", map[string]any{"display_name": strings.Repeat("é", 81)}, "display_name"},
			{"a direction override", map[string]any{"display_name": "Ann\u202eevil"}, "display_name"},
			{"a control character", map[string]any{"display_name": "Ann\x07"}, "display_name"},
			{"a zero-width space", map[string]any{"display_name": "\u200b"}, "display_name"},
			{"a soft hyphen", map[string]any{"display_name": "Ann\u00ad"}, "display_name"},
			{"a Hangul filler", map[string]any{"display_name": "\u3164"}, "display_name"},
			{"a blank Braille pattern", map[string]any{"display_name": "\u2800"}, "display_name"},
			{"punctuation only", map[string]any{"display_name": "..."}, "display_name"},
			{"null", map[string]any{"display_name": nil}, "display_name"},
			{"a number", map[string]any{"display_name": 5}, "display_name"},
			{"my role", map[string]any{"role": "admin"}, "role"},
			{"my email", map[string]any{"email": "me@evil.example"}, "email"},
		} {
			r := ann.Call("PATCH", "/api/account", c.body)
			var e struct{ Error struct{ Field string } }
			r.JSON(t, &e)
			if r.Status != http.StatusBadRequest || e.Error.Field != c.field {
				t.Errorf("%s: %d %s, want 400 naming %s", c.name, r.Status, r.Body, c.field)
			}
		}
		ann.Call("GET", "/api/me", nil).JSON(t, &me)
		if me.User.DisplayName != "Ann Smith" || me.User.Role != "member" || me.User.Email != "ann@band.example" {
			t.Errorf("a refused change changed ann: %+v", me.User)
		}
		if r := ann.Call("PATCH", "/api/account", map[string]any{}); r.Status != http.StatusOK {
			t.Errorf("an empty change: %d, want 200", r.Status)
		}
	})
}

func TestSignOutDevices(t *testing.T) {
	apptest.Both(t, functions.Mount(nil, routes.Session), func(t *testing.T, h *apptest.Harness) {
		ann := h.User("ann@band.example", "Ann", db.RoleMember)
		bob := h.User("bob@band.example", "Bob", db.RoleMember)
		now := h.Clock.Now()
		laptop, _ := device(t, h, ann, "192.0.2.10", firefox, now)
		phone, _ := device(t, h, ann, "192.0.2.11", "phone", now.Add(-time.Minute))
		tablet, _ := device(t, h, ann, "192.0.2.12", "tablet", now.Add(-2*time.Minute))
		old, _ := device(t, h, ann, "192.0.2.13", "old", now.Add(-3*time.Minute))
		bobs, _ := device(t, h, bob, "192.0.2.14", firefox, now)
		signedIn := func(name string, b *apptest.Browser, want bool) {
			t.Helper()
			if got := b.Call("GET", "/api/me", nil).Status == http.StatusOK; got != want {
				t.Errorf("%s signed in: %v, want %v", name, got, want)
			}
		}
		a, _ := getAccount(t, laptop)
		phoneID := a.Devices[1].ID
		bobAccount, _ := getAccount(t, bobs)

		// One device.
		if r := laptop.Call("DELETE", "/api/account/sessions/"+phoneID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("sign out the phone: %d %s", r.Status, r.Body)
		}
		signedIn("the phone", phone, false)
		signedIn("the laptop", laptop, true)
		if r := laptop.Call("DELETE", "/api/account/sessions/"+phoneID, nil); r.Status != http.StatusNotFound {
			t.Errorf("the phone again: %d, want 404", r.Status)
		}
		// Another member's session is not found, and stays.
		if r := laptop.Call("DELETE", "/api/account/sessions/"+bobAccount.Devices[0].ID, nil); r.Status != http.StatusNotFound {
			t.Errorf("bob's session, as ann: %d, want 404", r.Status)
		}
		signedIn("bob", bobs, true)

		// All the others: this one stays.
		var out struct {
			SignedOut int `json:"signed_out"`
		}
		r := laptop.Call("POST", "/api/account/sign-out-others", nil)
		r.JSON(t, &out)
		if r.Status != http.StatusOK || out.SignedOut != 2 {
			t.Fatalf("sign out others: %d %s, want 2 signed out", r.Status, r.Body)
		}
		signedIn("the laptop", laptop, true)
		signedIn("the tablet", tablet, false)
		signedIn("the old device", old, false)
		signedIn("bob", bobs, true)
		if a, _ := getAccount(t, laptop); len(a.Devices) != 1 || !a.Devices[0].Current {
			t.Errorf("devices after signing out the others: %+v", a.Devices)
		}

		// This one: the cookie goes too.
		a, _ = getAccount(t, laptop)
		r = laptop.Call("DELETE", "/api/account/sessions/"+a.Devices[0].ID, nil)
		if r.Status != http.StatusNoContent || laptop.Session() != "" {
			t.Errorf("sign out this device: %d, cookie %q", r.Status, laptop.Session())
		}
		signedIn("the laptop", laptop, false)
	})
}

package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
)

// all mounts every function as the dev server does.
var all = functions.Mount(nil)

func TestSignInFlow(t *testing.T) {
	apptest.Both(t, all, func(t *testing.T, h *apptest.Harness) {
		ctx := context.Background()
		if err := h.DB.MigrateAndSeed(ctx, "Admin@Band.example", h.Parts.Logger); err != nil {
			t.Fatal(err)
		}
		b := h.Browser("192.0.2.10")
		if r := b.Call("GET", "/api/me", nil); r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthorized" {
			t.Fatalf("signed-out /api/me: %d %s, want 401 unauthorized", r.Status, r.Body)
		}
		r := b.Call("POST", "/auth/send-link", map[string]string{"email": "  ADMIN@band.example "})
		if r.Status != http.StatusAccepted {
			t.Fatalf("send-link: %d %s", r.Status, r.Body)
		}
		sent := h.Mail.WaitSent(t, 1, time.Minute)
		if got := sent[0].To[0].Email; got != "admin@band.example" {
			t.Errorf("mail to %q, want the normalised admin@band.example", got)
		}
		link := h.LinkPath(1)

		// GET shows a confirm page and consumes nothing, however often.
		for range 2 {
			r = b.Call("GET", link, nil)
			if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `<form method="post">`) {
				t.Fatalf("GET verify: %d, want 200 with a form: %s", r.Status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("GET verify Content-Type = %q, want text/html", ct)
			}
		}
		if b.Session() != "" {
			t.Fatal("GET verify set a session cookie")
		}
		r = b.Call("POST", link, nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("POST verify: %d Location %q, want 303 to /", r.Status, r.Header.Get("Location"))
		}
		cookie := r.Header.Get("Set-Cookie")
		for _, want := range []string{auth.CookieName + "=", "HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=2592000"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("Set-Cookie %q lacks %q", cookie, want)
			}
		}
		r = b.Call("GET", "/api/me", nil)
		var me struct {
			User    db.User `json:"user"`
			Members int     `json:"members"`
		}
		r.JSON(t, &me)
		if r.Status != http.StatusOK || me.User.Email != "admin@band.example" || me.User.Role != "admin" || me.Members != 1 {
			t.Fatalf("/api/me: %d %s", r.Status, r.Body)
		}

		// The link works once.
		other := h.Browser("192.0.2.11")
		if r := other.Call("POST", link, nil); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), "expired or was already used") {
			t.Fatalf("reused link: %d %s, want 404 page", r.Status, r.Body)
		}
		if r := other.Call("GET", link, nil); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), "expired or was already used") {
			t.Fatalf("GET of a used link: %d, want the expired page at once", r.Status)
		}

		// Logout revokes at once: the old cookie no longer works.
		old := b.Session()
		if r := b.Call("POST", "/auth/logout", nil); r.Status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		if b.Session() != "" {
			t.Error("logout did not clear the cookie")
		}
		b.SetSession(old)
		if r := b.Call("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("/api/me with a logged-out session: %d, want 401", r.Status)
		}
	})
}

func TestCrossOriginWritesAreRefused(t *testing.T) {
	apptest.Both(t, all, func(t *testing.T, h *apptest.Harness) {
		tests := []struct {
			name   string
			header map[string]string
			want   int
		}{
			{"other origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
			{"origin with other port", map[string]string{"Origin": apptest.BaseURL + ":8443"}, http.StatusForbidden},
			{"no origin, no referer", map[string]string{}, http.StatusForbidden},
			{"null origin, cross-site", map[string]string{"Origin": "null", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
			{"referer of another site", map[string]string{"Referer": "https://evil.example/archive.test"}, http.StatusForbidden},
			{"own origin", map[string]string{"Origin": apptest.BaseURL}, http.StatusAccepted},
			{"own referer", map[string]string{"Referer": apptest.BaseURL + "/login"}, http.StatusAccepted},
			{"null origin, same-origin fetch", map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"}, http.StatusAccepted},
		}
		for i, tt := range tests {
			r := apptest.NewRequest(t, "POST", "/auth/send-link", map[string]string{"email": "x@band.example"})
			r.Header.Del("Origin")
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			r.Header.Set("X-Real-Ip", "192.0.2."+string(rune('0'+i)))
			if got := h.Do(r); got.Status != tt.want {
				t.Errorf("%s: status %d, want %d (%s)", tt.name, got.Status, tt.want, got.Body)
			}
		}
		// The logout of a signed-in member from another site is refused too.
		b := h.Browser("192.0.2.50")
		b.SignInAs(h.User("ann@band.example", "Ann", db.RoleMember))
		req := apptest.NewRequest(t, "POST", "/auth/logout", nil)
		req.Header.Set("Origin", "https://evil.example")
		if r := b.Do(req); r.Status != http.StatusForbidden {
			t.Fatalf("cross-site logout: %d, want 403", r.Status)
		}
		if r := b.Call("GET", "/api/me", nil); r.Status != http.StatusOK {
			t.Fatalf("session gone after a refused cross-site logout: %d", r.Status)
		}
	})
}

func TestNoSecretInLogsOrDatabase(t *testing.T) {
	apptest.Both(t, all, func(t *testing.T, h *apptest.Harness) {
		admin := h.User("boss@band.example", "Boss", db.RoleAdmin)
		b := h.Browser("192.0.2.60")
		b.SignIn("boss@band.example", 1)
		_ = admin
		linkToken := strings.TrimPrefix(h.LinkPath(1), "/auth/verify/")
		b.Call("GET", "/auth/verify/"+linkToken, nil)
		var inv struct{ URL string }
		b.Call("POST", "/api/invites", nil).JSON(t, &inv)
		inviteToken := inv.URL[strings.LastIndexByte(inv.URL, '/')+1:]
		joiner := h.Browser("192.0.2.61")
		joiner.Call("GET", "/auth/join/"+inviteToken, nil)
		joiner.Call("POST", "/auth/join/"+inviteToken, map[string]string{"email": "new@band.example", "display_name": "New"})
		joinToken := strings.TrimPrefix(h.LinkPath(2), "/auth/verify/")
		joiner.Call("POST", "/auth/verify/"+joinToken, nil)
		secrets := map[string]string{
			"sign-in link": linkToken, "session": b.Session(), "invite": inviteToken,
			"join link": joinToken, "joiner session": joiner.Session(),
		}
		h.WaitJobs()
		logs := h.Logs.String()
		if !strings.Contains(logs, `"level":"DEBUG"`) && !strings.Contains(logs, `"path":"/auth/verify/REDACTED"`) {
			t.Fatalf("the log captured nothing useful:\n%s", logs)
		}
		var dump string
		err := h.DB.Pool().QueryRow(context.Background(), `SELECT concat_ws(' ',
			(SELECT string_agg(row_to_json(t)::text, ' ') FROM login_tokens t),
			(SELECT string_agg(row_to_json(t)::text, ' ') FROM sessions t),
			(SELECT string_agg(row_to_json(t)::text, ' ') FROM invites t),
			(SELECT string_agg(row_to_json(t)::text, ' ') FROM users t),
			(SELECT string_agg(row_to_json(t)::text, ' ') FROM river_job t))`).Scan(&dump)
		if err != nil {
			t.Fatal(err)
		}
		for name, secret := range secrets {
			if len(secret) != 43 {
				t.Fatalf("%s token %q was not captured", name, secret)
			}
			if strings.Contains(logs, secret) {
				t.Errorf("the %s token appears in the log", name)
			}
			if strings.Contains(dump, secret) {
				t.Errorf("the %s token is stored in plain text", name)
			}
		}
	})
}

func TestTokensAreRedactedFromRequestLogs(t *testing.T) {
	apptest.Both(t, all, func(t *testing.T, h *apptest.Harness) {
		token := auth.NewToken().String()
		for _, p := range []string{"/auth/verify/" + token, "/auth/join/" + token} {
			h.Browser("192.0.2.70").Call("GET", p, nil)
		}
		logs := h.Logs.String()
		if strings.Contains(logs, token) {
			t.Fatalf("token in log:\n%s", logs)
		}
		for _, want := range []string{`"path":"/auth/verify/REDACTED"`, `"path":"/auth/join/REDACTED"`} {
			if !strings.Contains(logs, want) {
				t.Errorf("log lacks %s:\n%s", want, logs)
			}
		}
	})
}

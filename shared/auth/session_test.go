package auth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", body, err)
	}
	return e.Error.Code
}

func createUser(t *testing.T, d *db.DB, email, role string) db.User {
	t.Helper()
	u, err := d.CreateUser(context.Background(), email, email, role)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// insertSession stores a session for u that expires at expires and returns
// the cookie header that carries it.
func insertSession(t *testing.T, d *db.DB, u db.User, expires time.Time) string {
	t.Helper()
	tok := auth.NewToken()
	_, err := d.Pool().Exec(context.Background(), `
		INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $4)`, uuid.New(), tok.Hash(), u.ID, expires.Add(-auth.SessionTTL), expires)
	if err != nil {
		t.Fatalf("insert session: %v", err)
	}
	return auth.CookieName + "=" + tok.String()
}

// whoAmI answers the email of the user in the context.
var whoAmI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	u, ok := auth.UserFrom(r.Context())
	if !ok {
		http.Error(w, "no user in the context", http.StatusInternalServerError)
		return
	}
	io.WriteString(w, u.Email)
})

func TestRequireMemberAndAdmin(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	member := createUser(t, d, "ann@example.org", db.RoleMember)
	admin := createUser(t, d, "boss@example.org", db.RoleAdmin)
	gone := createUser(t, d, "gone@example.org", db.RoleMember)
	memberCookie := insertSession(t, d, member, now.Add(time.Hour))
	adminCookie := insertSession(t, d, admin, now.Add(auth.SessionTTL))
	expiredCookie := insertSession(t, d, member, now.Add(-time.Second))
	goneCookie := insertSession(t, d, gone, now.Add(time.Hour))
	if err := d.DisableUser(ctx, gone.ID, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	s := &auth.Sessions{DB: d, Secure: true, Now: func() time.Time { return now }}

	tests := []struct {
		name        string
		admin       bool // the route needs an admin
		cookie      string
		want        int
		wantCode    string
		wantUser    string
		wantCleared bool
	}{
		{name: "no cookie", cookie: "", want: http.StatusUnauthorized, wantCode: "unauthorized"},
		{name: "other cookies only", cookie: "theme=dark", want: http.StatusUnauthorized, wantCode: "unauthorized"},
		{name: "malformed cookie", cookie: auth.CookieName + "=not-a-token", want: http.StatusUnauthorized, wantCode: "unauthorized", wantCleared: true},
		{name: "unknown token", cookie: auth.CookieName + "=" + auth.NewToken().String(), want: http.StatusUnauthorized, wantCode: "unauthorized", wantCleared: true},
		{name: "expired session", cookie: expiredCookie, want: http.StatusUnauthorized, wantCode: "unauthorized", wantCleared: true},
		{name: "disabled user", cookie: goneCookie, want: http.StatusUnauthorized, wantCode: "unauthorized", wantCleared: true},
		{name: "member", cookie: memberCookie, want: http.StatusOK, wantUser: member.Email},
		{name: "member among other cookies", cookie: "theme=dark; " + memberCookie + "; lang=en", want: http.StatusOK, wantUser: member.Email},
		{name: "admin on a member route", cookie: adminCookie, want: http.StatusOK, wantUser: admin.Email},
		{name: "no cookie on an admin route", admin: true, cookie: "", want: http.StatusUnauthorized, wantCode: "unauthorized"},
		{name: "expired session on an admin route", admin: true, cookie: expiredCookie, want: http.StatusUnauthorized, wantCode: "unauthorized", wantCleared: true},
		{name: "member on an admin route", admin: true, cookie: memberCookie, want: http.StatusForbidden, wantCode: "forbidden"},
		{name: "admin on an admin route", admin: true, cookie: adminCookie, want: http.StatusOK, wantUser: admin.Email},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := s.RequireMember(whoAmI)
			if tt.admin {
				h = s.RequireAdmin(whoAmI)
			}
			r := httptest.NewRequest(http.MethodGet, "https://archive.test/api/me", nil)
			if tt.cookie != "" {
				r.Header.Set("Cookie", tt.cookie)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			if w.Code != tt.want {
				t.Fatalf("status: got %d, want %d (body %s)", w.Code, tt.want, w.Body)
			}
			if tt.wantCode != "" {
				if got := errorCode(t, w.Body.Bytes()); got != tt.wantCode {
					t.Errorf("error code: got %q, want %q", got, tt.wantCode)
				}
			}
			if tt.wantUser != "" && w.Body.String() != tt.wantUser {
				t.Errorf("user in the context: got %q, want %q", w.Body, tt.wantUser)
			}
			cleared := clearedCookie(w.Result())
			if (cleared != nil) != tt.wantCleared {
				t.Fatalf("session cookie cleared: got %v, want %v (Set-Cookie %q)", cleared != nil, tt.wantCleared, w.Header().Values("Set-Cookie"))
			}
			if cleared != nil && (cleared.Path != "/" || !cleared.HttpOnly || !cleared.Secure || cleared.Value != "") {
				t.Errorf("clearing cookie: got %q, want Path=/, HttpOnly, Secure and no value", cleared.Raw)
			}
		})
	}
}

// clearedCookie returns the Set-Cookie that deletes the session cookie, or nil.
func clearedCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName && c.MaxAge < 0 {
			return c
		}
	}
	return nil
}

// TestUnreachableDatabaseKeepsTheCookie: an outage is a 500, not a reason
// to sign everybody out.
func TestUnreachableDatabaseKeepsTheCookie(t *testing.T) {
	d := dbtest.New(t)
	cookie := insertSession(t, d, createUser(t, d, "ann@example.org", db.RoleMember), now.Add(time.Hour))
	d.Close()
	s := &auth.Sessions{DB: d, Secure: true, Now: func() time.Time { return now }}
	r := httptest.NewRequest(http.MethodGet, "https://archive.test/api/me", nil)
	r.Header.Set("Cookie", cookie)
	w := httptest.NewRecorder()
	s.RequireMember(whoAmI).ServeHTTP(w, r)
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status: got %d, want %d", w.Code, http.StatusInternalServerError)
	}
	if c := clearedCookie(w.Result()); c != nil {
		t.Errorf("got Set-Cookie %q, want the cookie kept", c.Raw)
	}
}

func TestSessionCookie(t *testing.T) {
	tests := []struct {
		name   string
		secure bool
	}{
		{"production", true},
		{"local dev (COOKIE_SECURE=false)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &auth.Sessions{Secure: tt.secure}
			tok := auth.NewToken()
			w := httptest.NewRecorder()
			s.SetCookie(w, tok)
			cookies := w.Result().Cookies()
			if len(cookies) != 1 {
				t.Fatalf("got %d cookies, want 1", len(cookies))
			}
			c := cookies[0]
			if c.Name != auth.CookieName || c.Value != tok.String() || c.Path != "/" || !c.HttpOnly ||
				c.Secure != tt.secure || c.SameSite != http.SameSiteLaxMode || c.MaxAge != int(auth.SessionTTL.Seconds()) {
				t.Errorf("got %q, want %s=<token>; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax; Secure=%v",
					c.Raw, auth.CookieName, int(auth.SessionTTL.Seconds()), tt.secure)
			}
			if auth.SessionTTL != 30*24*time.Hour {
				t.Errorf("SessionTTL: got %v, want 30 days", auth.SessionTTL)
			}

			// The cookie it sets is the one TokenFrom reads back.
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.AddCookie(c)
			if got, err := auth.TokenFrom(r); err != nil || got != tok {
				t.Errorf("TokenFrom: got %q, %v, want %q", got, err, tok)
			}
		})
	}
}

func TestUserFrom(t *testing.T) {
	if _, ok := auth.UserFrom(context.Background()); ok {
		t.Error("UserFrom(empty context): got ok, want none")
	}
	u := db.User{ID: uuid.New(), Email: "ann@example.org", Role: db.RoleMember}
	got, ok := auth.UserFrom(auth.WithUser(context.Background(), u))
	if !ok || got.ID != u.ID || got.Email != u.Email {
		t.Errorf("got %+v, %v, want %+v, true", got, ok, u)
	}
}

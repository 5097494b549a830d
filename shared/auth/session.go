package auth

import (
	"bandarchive/shared/errs"
	"context"
	"net/http"
	"time"

	"bandarchive/shared/db"
	"bandarchive/shared/httpx"
)

// CookieName is the session cookie's name.
const CookieName = "bandarchive_session"

// SessionTTL is how long a session lives.
const SessionTTL = 30 * 24 * time.Hour

type userKey struct{}

// WithUser returns ctx carrying the signed-in user.
func WithUser(ctx context.Context, u db.User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the signed-in user and reports whether there is one.
func UserFrom(ctx context.Context) (db.User, bool) {
	u, ok := ctx.Value(userKey{}).(db.User)
	return u, ok
}

// Sessions issues, checks and ends sessions.
type Sessions struct {
	DB *db.DB
	// Secure sets the cookie's Secure flag (COOKIE_SECURE).
	Secure bool
	Now    func() time.Time
}

// SetCookie sends the session cookie for t.
func (s *Sessions) SetCookie(w http.ResponseWriter, t Token) {
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    t.String(),
		Path:     "/",
		MaxAge:   int(SessionTTL.Seconds()),
		HttpOnly: true,
		Secure:   s.Secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// ClearCookie tells the browser to forget the session cookie.
func (s *Sessions) ClearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// TokenFrom returns the session token of the request's cookie.
func TokenFrom(r *http.Request) (Token, error) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return "", ErrMalformedToken
	}
	return ParseToken(c.Value)
}

var errSignedOut = errs.Errorf(errs.Unauthenticated, "Please sign in.")

// User returns the member behind the request's session cookie.
func (s *Sessions) User(r *http.Request) (db.User, error) {
	t, err := TokenFrom(r)
	if err != nil {
		return db.User{}, errSignedOut
	}
	return s.DB.SessionUser(r.Context(), t.Hash(), s.Now())
}

// RequireMember lets through only requests with a live session, with the
// user in the context.
func (s *Sessions) RequireMember(next http.Handler) http.Handler {
	return httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		u, err := s.User(r)
		if err != nil {
			if errs.CodeOf(err) == errs.Unauthenticated {
				if _, cerr := r.Cookie(CookieName); cerr == nil {
					s.ClearCookie(w) // a dead cookie is no use to keep sending
				}
			}
			return err
		}
		next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
		return nil
	})
}

// RequireAdmin lets through only admins; members get 403.
func (s *Sessions) RequireAdmin(next http.Handler) http.Handler {
	return s.RequireMember(httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if u, _ := UserFrom(r.Context()); !u.IsAdmin() {
			return db.ErrNotAdmin
		}
		next.ServeHTTP(w, r)
		return nil
	}))
}

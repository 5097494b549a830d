package apptest

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/mail/mailersendfake"
)

// Browser is one person's browser: it keeps the cookies the archive sets
// and sends them back, and comes from its own address.
type Browser struct {
	h       *Harness
	IP      string
	cookies map[string]string
}

// Browser returns a new browser with no cookies, coming from ip.
func (h *Harness) Browser(ip string) *Browser {
	return &Browser{h: h, IP: ip, cookies: map[string]string{}}
}

// Do sends r with the browser's cookies and address and keeps the cookies
// of the answer.
func (b *Browser) Do(r *http.Request) Response {
	b.h.T.Helper()
	for name, value := range b.cookies {
		r.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	r.Header.Set("X-Real-Ip", b.IP)
	resp := b.h.Do(r)
	for _, c := range (&http.Response{Header: resp.Header}).Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return resp
}

// Call is Do with a request built by NewRequest.
func (b *Browser) Call(method, path string, body any) Response {
	b.h.T.Helper()
	return b.Do(NewRequest(b.h.T, method, path, body))
}

// Session is the browser's session cookie, "" when signed out.
func (b *Browser) Session() string { return b.cookies[auth.CookieName] }

// SetSession replaces the browser's session cookie.
func (b *Browser) SetSession(v string) { b.cookies[auth.CookieName] = v }

// SignInAs creates a session for u directly in the database, for tests
// about what comes after sign-in.
func (b *Browser) SignInAs(u db.User) {
	b.h.T.Helper()
	t := auth.NewToken()
	_, err := b.h.DB.Pool().Exec(b.h.T.Context(), `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
		VALUES (gen_random_uuid(), $1, $2, $3, $4, $3)`, t.Hash(), u.ID, b.h.Clock.Now(), b.h.Clock.Now().Add(auth.SessionTTL))
	if err != nil {
		b.h.T.Fatalf("create session: %v", err)
	}
	b.SetSession(t.String())
}

// SendLink asks for a sign-in link for email, as the login page does.
func (b *Browser) SendLink(email string) Response {
	b.h.T.Helper()
	return b.Call("POST", "/auth/send-link", map[string]string{"email": email})
}

// SignIn signs the browser in the way a person does: it asks for a link
// for email, then confirms the link of the mailNo-th mail sent so far.
func (b *Browser) SignIn(email string, mailNo int) {
	b.h.T.Helper()
	if r := b.SendLink(email); r.Status != http.StatusAccepted {
		b.h.T.Fatalf("send-link: status %d, want 202: %s", r.Status, r.Body)
	}
	link := b.h.LinkPath(mailNo)
	if r := b.Call("POST", link, nil); r.Status != http.StatusSeeOther {
		b.h.T.Fatalf("POST verify: status %d, want 303: %s", r.Status, r.Body)
	}
}

// Member creates a user with role, named by the local part of email, and
// returns a browser signed in as that user, coming from an address of its
// own (one per length of email).
func (h *Harness) Member(email, role string) (*Browser, db.User) {
	h.T.Helper()
	u := h.User(email, strings.Split(email, "@")[0], role)
	b := h.Browser("203.0.113." + fmt.Sprint(len(email)))
	b.SignInAs(u)
	return b, u
}

// User creates a user with role.
func (h *Harness) User(email, name, role string) db.User {
	h.T.Helper()
	u, err := h.DB.CreateUser(h.T.Context(), email, name, role)
	if err != nil {
		h.T.Fatalf("create user: %v", err)
	}
	return u
}

// LinkPath waits for the n-th accepted mail and returns the path of its
// sign-in link (/auth/verify/{token}).
func (h *Harness) LinkPath(n int) string {
	h.T.Helper()
	sent := h.Mail.WaitSent(h.T, n, time.Minute)
	return strings.TrimPrefix(mailersendfake.Link(h.T, sent[n-1], BaseURL+"/auth/verify/"), BaseURL)
}

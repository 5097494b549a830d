package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/routes"
)

// TestHostileInputs sends hostile input to every route of the route table,
// on both edges, as a member, as an admin and signed out, and holds the
// archive to its promises: no answer is a 5xx, no log line holds a stack
// trace (nor is logged as an error), and each case gets the answer its row
// wants, with the JSON error code and field where they are known. The
// generic cases are generated from routes.All(), so a new route gets them
// at once; hostileSpecs must then say what its sane answer is, and fill
// what real id its wildcards take, or this test fails naming them.
func TestHostileInputs(t *testing.T) {
	for pattern := range hostileSpecs {
		if !slices.ContainsFunc(routes.All(), func(r routes.Route) bool { return r.Pattern() == pattern }) {
			t.Errorf("hostileSpecs has %q, which is not in the route table: remove it", pattern)
		}
	}
	apptest.Both(t, all, func(t *testing.T, h *apptest.Harness) {
		fx := newHostileFixture(t, h)
		cases := fx.cases()
		for _, c := range cases {
			fx.check(c)
		}
		fx.checkUserAgentStored()
		h.Parts.Background.Wait(context.Background())
		for line := range strings.SplitSeq(h.Logs.String(), "\n") {
			var l struct {
				Level     string `json:"level"`
				RequestID string `json:"request_id"`
			}
			json.Unmarshal([]byte(line), &l)
			switch {
			case strings.Contains(line, "goroutine ") || strings.Contains(line, "panic"):
				t.Errorf("stack trace in the log, case %q: %.800s", fx.names[l.RequestID], line)
			case l.Level == "ERROR":
				// Hostile input is the client's fault, never an error of ours.
				t.Errorf("error in the log, case %q: %.800s", fx.names[l.RequestID], line)
			}
		}
		t.Logf("%d hostile requests on the %s edge", len(cases), h.Edge)
	})
}

// who sends a request.
type who string

const (
	signedOut who = "signed out"
	member    who = "member"
	admin     who = "admin"
	forged    who = "forged cookie" // a well-formed session token that names no session
)

// How a route reads its body.
const (
	readsNothing   = ""
	readsInput     = "json or form" // httpx.DecodeInput
	readsJSON      = "json only"    // httpx.DecodeJSON
	readsMultipart = "multipart"
)

// hostileSpec is what the test must know of a route to say what is right.
type hostileSpec struct {
	auth  who    // the least who may: signedOut (anyone), member or admin
	reads string // how it reads its body
	ok    int    // the answer to a sane request with real ids
	html  bool   // errors are pages, not JSON (the magic link)
	// sane returns a body the route accepts, and its Content-Type.
	sane func(fx *hostileFixture) ([]byte, string)
}

var hostileSpecs = map[string]hostileSpec{
	"POST /auth/send-link": {signedOut, readsInput, http.StatusAccepted, false, func(fx *hostileFixture) ([]byte, string) {
		return jsonBody(map[string]string{"email": fx.unique("stranger") + "@band.example"}), "application/json"
	}},
	"GET /auth/verify/{token}":  {signedOut, readsNothing, http.StatusOK, true, nil},
	"POST /auth/verify/{token}": {signedOut, readsNothing, http.StatusSeeOther, true, nil},
	"GET /api/me":               {member, readsNothing, http.StatusOK, false, nil},
	"POST /auth/logout":         {signedOut, readsNothing, http.StatusNoContent, false, nil},
	"POST /api/invites":         {admin, readsNothing, http.StatusCreated, false, nil},
	"GET /api/invites":          {admin, readsNothing, http.StatusOK, false, nil},
	"DELETE /api/invites/{id}":  {admin, readsNothing, http.StatusNoContent, false, nil},
	"GET /auth/join/{token}":    {signedOut, readsNothing, http.StatusOK, false, nil},
	"POST /auth/join/{token}": {signedOut, readsInput, http.StatusAccepted, false, func(fx *hostileFixture) ([]byte, string) {
		return jsonBody(map[string]string{"email": fx.unique("joiner") + "@band.example", "display_name": "Joiner"}), "application/json"
	}},
	"POST /api/upload": {member, readsMultipart, http.StatusCreated, false, func(fx *hostileFixture) ([]byte, string) {
		return apptest.Multipart(fx.t, nil, "take.wav", fx.freshWAV())
	}},
	"GET /api/recordings":      {member, readsNothing, http.StatusOK, false, nil},
	"GET /api/recordings/{id}": {member, readsNothing, http.StatusOK, false, nil},
	"PATCH /api/recordings/{id}": {member, readsJSON, http.StatusOK, false, func(*hostileFixture) ([]byte, string) {
		return []byte(`{"venue":"The Hall"}`), "application/json"
	}},
	"DELETE /api/recordings/{id}":    {member, readsNothing, http.StatusNoContent, false, nil},
	"GET /api/recordings/{id}/audio": {member, readsNothing, http.StatusOK, false, nil},
	"GET /api/scores":                {member, readsNothing, http.StatusOK, false, nil},
	"PUT /api/scores/{recording_id}": {member, readsInput, http.StatusOK, false, func(*hostileFixture) ([]byte, string) {
		return []byte(`{"score":4}`), "application/json"
	}},
	"DELETE /api/scores/{recording_id}": {member, readsNothing, http.StatusOK, false, nil},
}

// gate is the answer the session check gives who before the route's own
// code runs, 0 when it lets who through.
func (s hostileSpec) gate(as who) int {
	switch {
	case s.auth != signedOut && (as == signedOut || as == forged):
		return http.StatusUnauthorized
	case s.auth == admin && as == member:
		return http.StatusForbidden
	}
	return 0
}

// through are those the session check lets through: the cases that reach
// the route's own code.
func (s hostileSpec) through() []who {
	switch s.auth {
	case admin:
		return []who{admin}
	case member:
		return []who{member, admin}
	}
	return []who{signedOut, member, admin}
}

// hostile is one row of the table.
type hostile struct {
	name   string
	as     who
	method string
	path   string // a path of the route table, its wildcards filled with fill
	fill   string // "" fills each wildcard with a real id or token
	query  string // raw, without "?"
	body   []byte
	ctype  string
	header map[string]string
	raw    bool   // send body and ctype as they are, even empty, not the route's sane body
	want   int    // 0: any answer but a 5xx
	moved  bool   // want a redirect (301, 307 or 308, as net/http's mux cleans a path) with a Location
	code   string // the JSON error code, "" when not checked
	field  string // the JSON error field, "" when not checked
}

// codeFor is the JSON error code of an error status.
func codeFor(status int, html bool) string {
	if html {
		return ""
	}
	return map[int]string{
		400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
		413: "too_large", 415: "unsupported", 429: "rate_limited",
	}[status]
}

// hostileFixture is an archive with real things to aim at: members, an
// uploaded recording, an invite and sign-in links.
type hostileFixture struct {
	t     *testing.T
	h     *apptest.Harness
	users map[who]db.User
	n     int               // a counter for unique names, addresses and files
	names map[string]string // request id → case, for the log check

	recording   string // a recording uploaded by the member
	inviteID    string
	inviteToken string
	readerToken string  // a sign-in link only ever read (GET)
	linker      db.User // whose fresh links the POST cases consume
	uploader    *apptest.Browser
	uaUser      db.User
	uaToken     string // a link mailed by send-link, for the User-Agent case
}

func newHostileFixture(t *testing.T, h *apptest.Harness) *hostileFixture {
	fx := &hostileFixture{t: t, h: h, names: map[string]string{}, users: map[who]db.User{}}
	fx.users[admin] = h.User("admin@band.example", "Admin", db.RoleAdmin)
	fx.users[member] = h.User("member@band.example", "Member", db.RoleMember)
	fx.linker = h.User("linker@band.example", "Linker", db.RoleMember)
	reader := h.User("reader@band.example", "Reader", db.RoleMember)
	fx.uaUser = h.User("agent@band.example", "Agent", db.RoleMember)

	fx.uploader = h.Browser("192.0.2.200")
	fx.uploader.SignInAs(fx.users[member])
	fx.recording = fx.freshRecording()
	fx.inviteID, fx.inviteToken = fx.freshInviteParts()
	fx.readerToken = fx.insertLink(reader)

	// The User-Agent case confirms a link the way a member gets one: asked
	// for with send-link, read from the mail.
	if r := h.Browser("192.0.2.201").SendLink(fx.uaUser.Email); r.Status != http.StatusAccepted {
		t.Fatalf("send-link for %s: %d %s", fx.uaUser.Email, r.Status, r.Body)
	}
	if to := h.Mail.WaitSent(t, 1, 5*time.Second)[0].To[0].Email; to != fx.uaUser.Email {
		t.Fatalf("the first mail went to %s, want %s", to, fx.uaUser.Email)
	}
	fx.uaToken = strings.TrimPrefix(h.LinkPath(1), "/auth/verify/")
	return fx
}

func (fx *hostileFixture) unique(prefix string) string {
	fx.n++
	return fmt.Sprintf("%s%d", prefix, fx.n)
}

func (fx *hostileFixture) nextIP() string {
	fx.n++
	return fmt.Sprintf("10.%d.%d.%d", fx.n>>16&255, fx.n>>8&255, fx.n&255)
}

// freshWAV is a WAV file no other upload has.
func (fx *hostileFixture) freshWAV() []byte {
	fx.n++
	return apptest.WAV(200+fx.n, 8000)
}

// freshRecording uploads a recording as the member and returns its id.
func (fx *hostileFixture) freshRecording() string {
	return fx.uploader.UploadOK(nil, "take.wav", fx.freshWAV()).ID
}

// freshInviteParts creates an invite as the admin: its id and its token.
func (fx *hostileFixture) freshInviteParts() (id, token string) {
	r := fx.request(admin, "POST", "/api/invites", nil, "")
	var inv struct{ ID, URL string }
	if r.Status != http.StatusCreated {
		fx.t.Fatalf("create invite: %d %s", r.Status, r.Body)
	}
	r.JSON(fx.t, &inv)
	return inv.ID, inv.URL[strings.LastIndexByte(inv.URL, '/')+1:]
}

// insertLink stores a usable sign-in link for u, as send-link does, and
// returns its token: quicker than a mail for the cases that spend one.
func (fx *hostileFixture) insertLink(u db.User) string {
	tok := auth.NewToken()
	now := fx.h.Clock.Now()
	_, err := fx.h.DB.Pool().Exec(context.Background(), `INSERT INTO login_tokens
		(id, token_hash, user_id, email, created_at, expires_at, request_ip)
		VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, '192.0.2.1')`, tok.Hash(), u.ID, u.Email, now, now.Add(10*time.Minute))
	if err != nil {
		fx.t.Fatalf("insert link: %v", err)
	}
	return tok.String()
}

var wildcardRE = regexp.MustCompile(`\{[a-z_]+\}`)

// fill puts fill, or real ids, in the wildcards of path. Cases that use a
// thing up (deleting it, spending a link) get a fresh one each.
func (fx *hostileFixture) fill(method, path, fill string, spend bool) string {
	return wildcardRE.ReplaceAllStringFunc(path, func(w string) string {
		if fill != "" {
			return fill
		}
		name := w[1 : len(w)-1]
		switch {
		case name == "token" && strings.HasPrefix(path, "/auth/verify/"):
			if method == http.MethodPost && spend {
				return fx.insertLink(fx.linker)
			}
			return fx.readerToken
		case name == "token" && strings.HasPrefix(path, "/auth/join/"):
			return fx.inviteToken
		case name == "id" && strings.HasPrefix(path, "/api/invites/"):
			if method == http.MethodDelete && spend {
				id, _ := fx.freshInviteParts()
				return id
			}
			return fx.inviteID
		case name == "id" && strings.HasPrefix(path, "/api/recordings/"), name == "recording_id":
			if method == http.MethodDelete && path == "/api/recordings/{id}" && spend {
				return fx.freshRecording()
			}
			return fx.recording
		}
		fx.t.Errorf("hostile_test.go has no real value for %s in %s %s: add one to fill", w, method, path)
		return "x"
	})
}

// request sends a request as who from an address of its own, with a fresh
// session for a member or an admin (so a logout or a sign-in of one case
// does not change the next).
func (fx *hostileFixture) request(as who, method, target string, body []byte, ctype string) apptest.Response {
	r := fx.newRequest(as, method, target, body, ctype)
	return fx.h.Do(r)
}

func (fx *hostileFixture) newRequest(as who, method, target string, body []byte, ctype string) *http.Request {
	var b any
	if len(body) > 0 {
		b = body
	}
	r := apptest.NewRequest(fx.t, method, target, b)
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	r.Header.Set("X-Real-Ip", fx.nextIP())
	switch as {
	case member, admin:
		br := fx.h.Browser("192.0.2.1")
		br.SignInAs(fx.users[as])
		r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: br.Session()})
	case forged:
		r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: auth.NewToken().String()})
	}
	return r
}

// check sends one case and holds the answer to it.
func (fx *hostileFixture) check(c hostile) {
	t := fx.t
	t.Helper()
	// A case the session or Origin check refuses spends nothing: it may
	// aim at the shared things.
	spend := c.want != http.StatusUnauthorized && c.want != http.StatusForbidden
	path := fx.fill(c.method, c.path, c.fill, spend)
	target := path
	if c.query != "" {
		target += "?" + c.query
	}
	r := fx.newRequest(c.as, c.method, target, c.body, c.ctype)
	id := fmt.Sprintf("hostile-%d", len(fx.names))
	r.Header.Set("X-Request-Id", id)
	for k, v := range c.header {
		r.Header.Set(k, v)
	}
	name := fmt.Sprintf("%s %s: %s, as %s", c.method, c.path, c.name, c.as)
	fx.names[id] = name
	got := fx.h.Do(r)
	if rid := got.Header.Get("X-Request-Id"); rid != "" && rid != id {
		fx.names[rid] = name
	}
	switch {
	case got.Status >= 500:
		t.Errorf("%s: %d, a server error: %.300s", name, got.Status, got.Body)
	case c.moved && (got.Status != 301 && got.Status != 307 && got.Status != 308 || got.Header.Get("Location") == ""):
		t.Errorf("%s: %d Location %q, want a redirect to the cleaned path", name, got.Status, got.Header.Get("Location"))
	case c.want != 0 && got.Status != c.want:
		t.Errorf("%s: %d, want %d: %.300s", name, got.Status, c.want, got.Body)
	case c.code != "" && got.ErrorCode() != c.code:
		t.Errorf("%s: error code %q, want %q: %.300s", name, got.ErrorCode(), c.code, got.Body)
	case c.field != "" && errorField(got) != c.field:
		t.Errorf("%s: error field %q, want %q: %.300s", name, errorField(got), c.field, got.Body)
	case c.want == http.StatusMethodNotAllowed && got.Header.Get("Allow") == "":
		t.Errorf("%s: 405 without Allow", name)
	}
}

func errorField(r apptest.Response) string {
	var e struct {
		Error struct {
			Field string `json:"field"`
		} `json:"error"`
	}
	json.Unmarshal(r.Body, &e)
	return e.Error.Field
}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// form encodes name, value pairs as application/x-www-form-urlencoded;
// values may hold any bytes.
func form(pairs ...string) []byte {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Add(pairs[i], pairs[i+1])
	}
	return []byte(v.Encode())
}

const formType = "application/x-www-form-urlencoded"

// cases is the table: generic cases for every route of the route table,
// then the cases aimed at one route.
func (fx *hostileFixture) cases() []hostile {
	var cs []hostile
	paths := map[string][]string{} // path → its methods
	for _, r := range routes.All() {
		paths[r.Path] = append(paths[r.Path], r.Method)
		spec, known := hostileSpecs[r.Pattern()]
		if !known {
			fx.t.Errorf("%s is in the route table but not in hostileSpecs (local/hostile_test.go): add it, "+
				"so its hostile cases know what is right; until then they only check for 5xx", r.Pattern())
			spec = hostileSpec{auth: signedOut}
		}
		cs = append(cs, genericCases(fx, r, spec)...)
	}
	cs = append(cs, methodCases(paths)...)
	cs = append(cs, fx.aimedCases()...)
	return cs
}

// expect is the answer as gets, and its error code, when the route's own
// code would answer status.
func expect(spec hostileSpec, as who, status int) (int, string) {
	if g := spec.gate(as); g != 0 {
		return g, codeFor(g, false)
	}
	return status, codeFor(status, spec.html)
}

// bodyCase is a hostile body and what each kind of reader answers it.
type bodyCase struct {
	name                string
	body                string
	ctype               string
	input, json, upload int    // DecodeInput, DecodeJSON, a multipart upload
	jsonField           string // the field the JSON-only reader names
}

func bodyCases() []bodyCase {
	const j = "application/json"
	huge := `{"notes":"` + strings.Repeat("a", 70<<10) + `"}`
	deep := strings.Repeat("[", 20000)
	cs := []bodyCase{
		{"no body", "", "", 400, 400, 415, ""},
		{"empty JSON body", "", j, 400, 400, 415, ""},
		{"invalid JSON", `{"email":`, j, 400, 400, 415, ""},
		{"invalid JSON, no Content-Type", `{{{{`, "", 400, 400, 415, ""},
		{"JSON array", `[]`, j, 400, 400, 415, ""},
		{"JSON array of objects", `[{"email":"a@band.example","score":3,"title":"x"}]`, j, 400, 400, 415, ""},
		{"JSON number", `42`, j, 400, 400, 415, ""},
		{"JSON number too big", `1e999999`, j, 400, 400, 415, ""},
		{"JSON string", `"x"`, j, 400, 400, 415, ""},
		{"JSON true", `true`, j, 400, 400, 415, ""},
		{"JSON null", `null`, j, 400, 200, 415, ""},
		{"empty object", `{}`, j, 400, 200, 415, ""},
		{"two objects", `{}{}`, j, 400, 400, 415, ""},
		{"trailing bracket", `{}]`, j, 400, 400, 415, ""},
		{"deep nesting", deep, j, 400, 400, 415, ""},
		{"deep nesting in a field", `{"email":` + deep, j, 400, 400, 415, ""},
		{"unknown field", `{"role":"admin"}`, j, 400, 400, 415, "role"},
		{"NUL as a key", `{"\u0000":"x"}`, j, 400, 400, 415, "\x00"},
		{"invalid UTF-8 in JSON", "{\"email\":\"\xff\xfe\"}", j, 400, 400, 415, "email"},
		{"UTF-8 byte order mark", "\xef\xbb\xbf{}", j, 400, 400, 415, ""},
		{"UTF-16 JSON", "\xff\xfe{\x00}\x00", j, 400, 400, 415, ""},
		{"raw NUL byte", "{\x00}", j, 400, 400, 415, ""},
		{"huge JSON (over 64 KiB)", huge, j, 413, 413, 415, ""},
		{"huge JSON, no Content-Type", huge, "", 413, 413, 415, ""},
		{"text/plain", `{"email":"a@band.example"}`, "text/plain", 415, 415, 415, ""},
		{"application/xml", `<email>a@band.example</email>`, "application/xml", 415, 415, 415, ""},
		{"multipart without boundary", "--x\r\n\r\n", "multipart/form-data", 400, 415, 400, ""},
		{"Content-Type that does not parse", `{}`, ";;;=", 400, 200, 415, ""},
		{"JSON said to be UTF-16", `{}`, "application/json; charset=utf-16", 400, 200, 415, ""},
		{"empty form", "", formType, 400, 415, 415, ""},
		{"form of unknown and invalid names", "a=1&%FF=%00&=", formType, 400, 415, 415, ""},
		{"form with bad escapes", "email=%zz&score=%", formType, 400, 415, 415, ""},
	}
	// JSON of the wrong shape in each field a route reads.
	for _, f := range []string{"email", "display_name", "title", "recorded_date", "venue", "source", "notes", "score"} {
		cs = append(cs, bodyCase{"nested object in " + f, `{"` + f + `":{"$gt":[null,{"x":1}]}}`, j, 400, 400, 415, f})
	}
	return cs
}

// genericCases are the cases every route gets.
func genericCases(fx *hostileFixture, r routes.Route, spec hostileSpec) []hostile {
	var cs []hostile
	add := func(c hostile) {
		c.method, c.path = r.Method, r.Path
		if c.body == nil && c.ctype == "" && spec.sane != nil && !c.raw {
			c.body, c.ctype = spec.sane(fx)
		}
		cs = append(cs, c)
	}
	everyone := []who{signedOut, member, admin}
	unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead

	// The sane request, and with a forged session cookie.
	for _, as := range append(everyone, forged) {
		want, code := expect(spec, as, spec.ok)
		add(hostile{name: "sane request", as: as, want: want, code: code})
	}

	// Hostile headers on the sane request, by those the session check
	// lets through (signed out is refused alike whatever the header).
	for _, as := range spec.through() {
		want, code := expect(spec, as, spec.ok)
		for _, hd := range []struct{ name, key, value string }{
			{"User-Agent not UTF-8", "User-Agent", "\xff\xfe\xc3\x28 bot/1.0"},
			{"User-Agent of 16 KiB", "User-Agent", strings.Repeat("\u202e", 16<<10/3)},
			{"X-Real-Ip not an address", "X-Real-Ip", "\xff' OR 1=1"},
			{"X-Request-Id not UTF-8", "X-Request-Id", "\xff../\xe2\x80\xae"},
			{"Accept not UTF-8", "Accept", "\xff/\xfe"},
		} {
			add(hostile{name: hd.name, as: as, header: map[string]string{hd.key: hd.value}, want: want, code: code})
		}
		if unsafe {
			add(hostile{name: "Origin not UTF-8", as: as, header: map[string]string{"Origin": "https://\xffarchive.test"},
				want: http.StatusForbidden, code: "forbidden"})
		}
	}
	gate := spec.gate(forged)
	want, code := spec.ok, codeFor(spec.ok, spec.html)
	if gate != 0 {
		want, code = gate, codeFor(gate, false)
	}
	for _, v := range []string{"\xff\xfe", "not-a-token", strings.Repeat("A", 4096)} {
		add(hostile{name: fmt.Sprintf("session cookie %.12q", v), as: signedOut,
			header: map[string]string{"Cookie": auth.CookieName + "=" + v}, want: want, code: code})
	}

	// Hostile query strings on the sane request: all of them, signed in
	// and out, on the lists, which read the query; the basic ones by the
	// first who gets through elsewhere.
	list := r.Pattern() == "GET /api/recordings" || r.Pattern() == "GET /api/scores"
	queriers := spec.through()[:1]
	if list {
		queriers = everyone
	}
	for _, as := range queriers {
		for _, q := range []struct {
			name, raw  string
			list, rank int    // the answers of GET /api/recordings and GET /api/scores
			field      string // the field they name
			everywhere bool   // sent to every route, not just the lists
		}{
			{"q=%00", "q=%00", 400, 400, "q", true},
			{"q=%FF", "q=%FF", 400, 400, "q", true},
			{"q of invalid UTF-8 and NUL", "q=%C3%28%00", 400, 400, "q", false},
			{"q of 300 characters", "q=" + strings.Repeat("x", 300), 400, 400, "q", false},
			{"q of LIKE wildcards", "q=%25%5F%5C", 200, 200, "", false},
			{"q of bidi overrides", "q=%E2%80%AE%E2%81%A6", 200, 200, "", false},
			{"names and values %FF and %00", "%FF=%FF&%00=%00", 200, 200, "", true},
			{"bad escapes", "a=%zz&q=%&sort=%", 200, 200, "", true},
			{"sort=%00", "sort=%00", 400, 200, "sort", false},
			{"unscored=%FF", "unscored=%FF", 400, 400, "unscored", false},
			{"limit=%00", "limit=%00", 400, 400, "limit", false},
			{"limit too big for an int", "limit=99999999999999999999", 400, 400, "limit", false},
			{"cursor=%FF", "cursor=%FF", 400, 400, "cursor", false},
			{"download=%FF", "download=%FF", 200, 200, "", true},
		} {
			if !list && !q.everywhere {
				continue
			}
			status := spec.ok
			switch r.Pattern() {
			case "GET /api/recordings":
				status = q.list
			case "GET /api/scores":
				status = q.rank
			}
			want, code := expect(spec, as, status)
			c := hostile{name: "query " + q.name, as: as, query: q.raw, want: want, code: code}
			if want == 400 {
				c.field = q.field
			}
			add(c)
		}
	}

	// Hostile bodies, with real ids, by those the session check lets
	// through (signed out, they all end at the check); one of them is
	// enough for a route that reads no body.
	bodiers := spec.through()
	if spec.reads == readsNothing {
		bodiers = bodiers[:1]
	}
	for _, as := range bodiers {
		for _, b := range bodyCases() {
			status := spec.ok
			field := ""
			switch spec.reads {
			case readsInput:
				status = b.input
			case readsJSON:
				status, field = b.json, b.jsonField
			case readsMultipart:
				status = b.upload
			}
			if status != http.StatusBadRequest {
				field = ""
			}
			want, code := expect(spec, as, status)
			add(hostile{name: "body: " + b.name, as: as, body: []byte(b.body), ctype: b.ctype, raw: true,
				want: want, code: code, field: field})
		}
	}

	// Hostile wildcards, with the sane body.
	if !wildcardRE.MatchString(r.Path) {
		return cs
	}
	for _, as := range spec.through() {
		for _, w := range hostileWildcards() {
			c := hostile{name: "wildcard " + w.name, as: as, fill: w.value}
			switch {
			case w.redirect:
				c.moved = true // the mux cleans the path first
			case !w.namesNothing || spec.ok == 0:
			case strings.HasPrefix(r.Path, "/auth/verify/"):
				// The magic link answers pages: 400 for what cannot be a
				// token, 404 for a token that is not a live link.
				c.want = http.StatusBadRequest
				if dec, err := url.PathUnescape(w.value); err == nil {
					if _, err := auth.ParseToken(dec); err == nil {
						c.want = http.StatusNotFound
					}
				}
			default:
				c.want, c.code = expect(spec, as, http.StatusNotFound)
			}
			add(c)
		}
	}
	return cs
}

type wildcardValue struct {
	name, value  string
	namesNothing bool // names nothing: answered as an unknown id or token
	redirect     bool // a path the mux cleans and redirects
}

func hostileWildcards() []wildcardValue {
	return []wildcardValue{
		{"not a UUID", "not-a-uuid", true, false},
		{"nil UUID", "00000000-0000-0000-0000-000000000000", true, false},
		{"a UUID that does not exist", uuid.NewString(), true, false},
		{"UUID in braces", "%7B" + uuid.NewString() + "%7D", true, false},
		{"URN UUID", "urn:uuid:" + uuid.NewString(), true, false},
		{"%00", "%00", true, false},
		{"%FF", "%FF", true, false},
		{"invalid UTF-8 and NUL", "%C3%28%00%FE", true, false},
		{"very long", strings.Repeat("a", 16<<10), true, false},
		{"very long of %FF", strings.Repeat("%FF", 4<<10), true, false},
		{"CRLF and a header", "%0D%0ASet-Cookie:%20x=1", true, false},
		{"bidi override", "%E2%80%AE", true, false},
		{"SQL", "'%20OR%20'1'='1", true, false},
		{"a valid-looking token that does not exist", auth.NewToken().String(), true, false},
		{"a token of the wrong alphabet", strings.Repeat("+", 43), true, false},
		{"a token with padding", auth.NewToken().String() + "=", true, false},
		{"a token of 43 NULs", strings.Repeat("%00", 43), true, false},
		{"..", "..", false, true},
		{"../", "../", false, true},
		{"encoded traversal", "..%2F..%2F..%2Fetc%2Fpasswd", true, false}, // one segment: no redirect
		{"encoded backslash traversal", "..%5C..%5Cetc", true, false},
	}
}

// methodCases send every path each method it does not have: 405, with
// Allow, never a 5xx.
func methodCases(paths map[string][]string) []hostile {
	var cs []hostile
	for path, methods := range paths {
		if slices.Contains(methods, http.MethodGet) {
			methods = append(methods, http.MethodHead)
		}
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"} {
			if slices.Contains(methods, m) {
				continue
			}
			code := "method_not_allowed"
			if m == http.MethodHead {
				code = "" // no body
			}
			for _, as := range []who{signedOut, member} {
				cs = append(cs, hostile{name: "method it does not have", as: as, method: m, path: path, fill: "x",
					want: http.StatusMethodNotAllowed, code: code})
			}
			cs = append(cs, hostile{name: "method it does not have, with a JSON body", as: admin, method: m, path: path,
				fill: "x", body: []byte(`{"score":5}`), ctype: "application/json", raw: true,
				want: http.StatusMethodNotAllowed, code: code})
		}
	}
	slices.SortFunc(cs, func(a, b hostile) int { return strings.Compare(a.path+a.method, b.path+b.method) })
	return cs
}

// aimedCases are the cases aimed at one route's own checks.
func (fx *hostileFixture) aimedCases() []hostile {
	const j = "application/json"
	var cs []hostile
	row := func(as who, method, path, name string, body []byte, ctype string, want int, field string) {
		cs = append(cs, hostile{name: name, as: as, method: method, path: path, body: body, ctype: ctype, raw: true,
			want: want, code: codeFor(want, false), field: field})
	}

	// Joining with a real invite: names with NUL, control and direction
	// characters are refused naming the field, as JSON and as a form.
	badNames := map[string]string{
		"NUL": "Ann\x00Smith", "BEL": "Ann\x07", "ANSI escape": "\x1b[31mAnn", "DEL": "Ann\x7f",
		"C1 control": "Ann\u0090", "U+202E": "Ann\u202etxt.exe", "U+2066": "\u2066Ann", "U+2069": "Ann\u2069",
		"U+200F": "Ann\u200f", "U+061C": "Ann\u061c", "only spaces": "   ", "empty": "", "81 characters": strings.Repeat("é", 81),
	}
	for what, name := range badNames {
		email := fx.unique("joiner") + "@band.example"
		row(signedOut, "POST", "/auth/join/{token}", "display name with "+what+" (JSON)",
			jsonBody(map[string]string{"email": email, "display_name": name}), j, 400, "display_name")
		row(signedOut, "POST", "/auth/join/{token}", "display name with "+what+" (form)",
			form("email", email, "display_name", name), formType, 400, "display_name")
	}
	row(signedOut, "POST", "/auth/join/{token}", "display name of invalid UTF-8 (form)",
		form("email", fx.unique("joiner")+"@band.example", "display_name", "Ann\xff\xfe"), formType, 400, "display_name")
	mp, mpType := multipartForm(fx.t, "email", fx.unique("joiner")+"@band.example", "display_name", "A\x00B")
	row(signedOut, "POST", "/auth/join/{token}", "display name with NUL (multipart form)", mp, mpType, 400, "display_name")
	row(signedOut, "POST", "/auth/join/{token}", "email with NUL", jsonBody(map[string]string{
		"email": "ann\x00@band.example", "display_name": "Ann"}), j, 400, "email")
	row(signedOut, "POST", "/auth/join/{token}", "display name with tabs and newlines is folded",
		jsonBody(map[string]string{"email": fx.unique("joiner") + "@band.example", "display_name": "Ann\t\n  Smith"}), j, 202, "")

	// send-link (and join): an email of invalid UTF-8 in a form, and its
	// kin. JSON cannot carry invalid UTF-8: its decoder makes each bad byte
	// U+FFFD, which no address has either.
	for what, email := range map[string]string{
		"invalid UTF-8": "\xff\xfe@band.example", "invalid UTF-8 in the domain": "ann@band\xc3\x28.example",
		"U+FFFD": "\ufffd@band.example", "NUL": "ann\x00@band.example", "CRLF and a header": "ann@band.example\r\nBcc: all@band.example",
		"300 characters": strings.Repeat("a", 300) + "@band.example", "a display name": "Ann <ann@band.example>",
		"U+202E": "ann\u202e@band.example", "U+2066 in the domain": "ann@\u2066band.example", "U+200B": "an\u200bn@band.example",
		"C1 control": "ann\u0085@band.example",
	} {
		row(signedOut, "POST", "/auth/send-link", "email with "+what+" (form)", form("email", email), formType, 400, "email")
		row(signedOut, "POST", "/auth/send-link", "email with "+what+" (JSON)", jsonBody(map[string]string{"email": email}), j, 400, "email")
		row(signedOut, "POST", "/auth/join/{token}", "email with "+what+" (form)", form("email", email, "display_name", "Ann"), formType, 400, "email")
	}
	row(signedOut, "POST", "/auth/send-link", "email of raw invalid UTF-8 bytes in JSON", []byte("{\"email\":\"ann\xff@band.example\"}"), j, 400, "email")
	mp, mpType = multipartForm(fx.t, "email", "\xff@band.example")
	row(signedOut, "POST", "/auth/send-link", "email of invalid UTF-8 (multipart form)", mp, mpType, 400, "email")
	row(signedOut, "POST", "/auth/send-link", "email of a non-ASCII letter still works",
		jsonBody(map[string]string{"email": "jos\u00e9" + fx.unique("") + "@band.example"}), j, 202, "")
	row(signedOut, "POST", "/auth/send-link", "the email twice (form)", form("email", "\xff", "email", fx.unique("s")+"@band.example"), formType, 400, "email")

	// The magic link from send-link, confirmed by a browser whose
	// User-Agent is not UTF-8: it signs in.
	cs = append(cs, hostile{name: "User-Agent not UTF-8, on a link mailed by send-link", as: signedOut,
		method: "POST", path: "/auth/verify/{token}", fill: fx.uaToken, raw: true,
		header: map[string]string{"User-Agent": "Mozilla/5.0 \xff\xfe\xc3\x28 (\xe2\x80\xae)"}, want: http.StatusSeeOther})

	// Editing a recording: only JSON, and no control or direction
	// characters in its fields.
	patch := "/api/recordings/{id}"
	row(member, "PATCH", patch, "form-encoded", form("title", "New title"), formType, 415, "")
	row(member, "PATCH", patch, "form-encoded, empty", nil, formType, 415, "")
	mp, mpType = multipartForm(fx.t, "title", "x")
	row(member, "PATCH", patch, "multipart form", mp, mpType, 415, "")
	bad := map[string]string{
		"U+202E": "Live\u202e3pm.gnos", "U+2066": "\u2066Live", "U+200E": "Live\u200e", "NUL": "Live\x00",
		"BEL": "Live\x07", "ANSI escape": "\x1b[2JLive", "DEL": "Live\x7f", "C1 control": "Live\u0085x\u009b",
	}
	for _, field := range []string{"title", "venue", "source", "notes"} {
		for what, v := range bad {
			if field == "notes" && what == "C1 control" {
				continue // U+0085 is a line break, which notes keep; U+009B is still refused below
			}
			row(member, "PATCH", patch, field+" with "+what, jsonBody(map[string]string{field: v}), j, 400, field)
		}
		row(member, "PATCH", patch, field+" as a number", []byte(`{"`+field+`":5}`), j, 400, field)
		row(member, "PATCH", patch, field+" as an array", []byte(`{"`+field+`":["x"]}`), j, 400, field)
		row(member, "PATCH", patch, field+" of invalid UTF-8 bytes", []byte("{\""+field+"\":\"Live \xff\xfe\"}"), j, 200, "")
	}
	row(member, "PATCH", patch, "notes with CSI", jsonBody(map[string]string{"notes": "a\u009bb"}), j, 400, "notes")
	row(member, "PATCH", patch, "notes with line breaks and tabs", jsonBody(map[string]string{"notes": "a\nb\r\n\tc"}), j, 200, "")
	row(member, "PATCH", patch, "title empty", []byte(`{"title":""}`), j, 400, "title")
	row(member, "PATCH", patch, "title null", []byte(`{"title":null}`), j, 400, "title")
	row(member, "PATCH", patch, "title of 201 characters", jsonBody(map[string]string{"title": strings.Repeat("é", 201)}), j, 400, "title")
	row(member, "PATCH", patch, "title twice, the last bidi", []byte(`{"title":"ok","title":"\u202e"}`), j, 400, "title")
	row(member, "PATCH", patch, "notes of 10001 characters", jsonBody(map[string]string{"notes": strings.Repeat("n", 10001)}), j, 400, "notes")
	for what, d := range map[string]string{
		"February 30": "1998-02-30", "year 0": "0000-01-01", "far future": "9999-12-31", "with NUL": "1998-07-14\x00",
		"invalid UTF-8": "\xff", "a timestamp": "1998-07-14T00:00:00Z", "year 1899": "1899-12-31", "U+202E": "1998-07-14\u202e",
	} {
		row(member, "PATCH", patch, "recorded_date "+what, jsonBody(map[string]string{"recorded_date": d}), j, 400, "recorded_date")
	}
	row(member, "PATCH", patch, "recorded_date null clears it", []byte(`{"recorded_date":null}`), j, 200, "")
	for _, f := range []string{"id", "uploaded_by", "sha256", "file_size_bytes", "TITLE"} {
		row(member, "PATCH", patch, "field "+f+" cannot be edited", []byte(`{"`+f+`":"x"}`), j, 400, f)
	}

	// Scores: whole numbers from 1 to 5, nothing else.
	put := "/api/scores/{recording_id}"
	for _, s := range []string{`0`, `6`, `-1`, `2.5`, `1e999`, `99999999999999999999`, `null`, `"0x3"`, `"3 "`} {
		want, field := 400, "score"
		if strings.HasPrefix(s, `"`) {
			field = "" // not a JSON number: the decoder refuses it
		}
		row(member, "PUT", put, "score "+s, []byte(`{"score":`+s+`}`), j, want, field)
	}
	row(member, "PUT", put, "score as a string", []byte(`{"score":"3"}`), j, 200, "")
	row(member, "PUT", put, "score true", []byte(`{"score":true}`), j, 400, "")
	row(member, "PUT", put, "score twice", []byte(`{"score":3,"score":5}`), j, 200, "")
	for _, s := range []string{"\x00", "\xff", "1e1", "٣", "3\x00"} {
		row(member, "PUT", put, fmt.Sprintf("score %q (form)", s), form("score", s), formType, 400, "score")
	}
	row(member, "PUT", put, "score 3 (form)", form("score", "3"), formType, 200, "")

	// Uploads: the fields are held to the same rules; the file name is
	// cleaned, never refused.
	up := func(name string, fields map[string]string, filename string, content []byte, want int, field string) {
		body, ct := apptest.Multipart(fx.t, fields, filename, content)
		row(member, "POST", "/api/upload", name, body, ct, want, field)
	}
	up("title with U+202E", map[string]string{"title": "Gig\u202e"}, "gig.wav", fx.freshWAV(), 400, "title")
	up("title of invalid UTF-8", map[string]string{"title": "Gig\xff\xfe"}, "gig.wav", fx.freshWAV(), 400, "title")
	up("venue with NUL", map[string]string{"venue": "Hall\x00"}, "gig.wav", fx.freshWAV(), 400, "venue")
	up("source with U+2066", map[string]string{"source": "\u2066DAT"}, "gig.wav", fx.freshWAV(), 400, "source")
	up("notes with ANSI escape", map[string]string{"notes": "\x1b[2J"}, "gig.wav", fx.freshWAV(), 400, "notes")
	up("recorded_date of invalid UTF-8", map[string]string{"recorded_date": "\xff"}, "gig.wav", fx.freshWAV(), 400, "recorded_date")
	up("field over 64 KiB", map[string]string{"notes": strings.Repeat("n", 65<<10)}, "gig.wav", fx.freshWAV(), 400, "")
	up("file name with traversal", nil, "../../../etc/passwd", fx.freshWAV(), 201, "")
	up("file name of invalid UTF-8 and bidi", nil, "\xff\xfe\u202evaw.exe", fx.freshWAV(), 201, "")
	up("file name with NUL and CRLF", nil, "a\x00b\r\nX-Evil: 1.wav", fx.freshWAV(), 400, "") // it breaks the part's header
	up("file name of dots", nil, "..", fx.freshWAV(), 201, "")
	up("no file part", map[string]string{"title": "x"}, "", nil, 400, "")
	up("empty file", nil, "empty.wav", []byte{}, 400, "")
	up("not audio", nil, "evil.wav", []byte("<script>alert(1)</script>"), 415, "")
	two, ct := twoFiles(fx.t, fx.freshWAV(), fx.freshWAV())
	row(member, "POST", "/api/upload", "two file parts", two, ct, 400, "")
	whole, ct := apptest.Multipart(fx.t, nil, "cut.wav", fx.freshWAV())
	row(member, "POST", "/api/upload", "cut short", whole[:len(whole)/2], ct, 400, "")
	row(member, "POST", "/api/upload", "garbage with a boundary", []byte("\xff\xfe\x00garbage"), "multipart/form-data; boundary=x", 400, "")
	row(member, "POST", "/api/upload", "boundary of 100 KiB", nil, "multipart/form-data; boundary="+strings.Repeat("b", 100<<10), 400, "")

	// Playback: ranges of every kind.
	for rg, want := range map[string]int{
		"bytes=-0": 416, "bytes=99999999999999999999-": 416, "bytes=5-1": 416, "bytes=\xff-": 416,
		"bytes=0-0," + strings.Repeat("1-1,", 2000) + "0-0": 0, "bytes=-99999999999999999999": 0, "bytes=0-1,-0": 0,
	} {
		cs = append(cs, hostile{name: fmt.Sprintf("Range %.40q", rg), as: member, method: "GET", path: "/api/recordings/{id}/audio",
			header: map[string]string{"Range": rg}, raw: true, want: want})
	}
	cs = append(cs, hostile{name: "If-None-Match not UTF-8", as: member, method: "GET", path: "/api/recordings/{id}/audio",
		header: map[string]string{"If-None-Match": "\"\xff\"", "If-Range": "\xff"}, raw: true, want: 200})

	// Logging out with a cookie that is not a token.
	cs = append(cs, hostile{name: "logout with a cookie of invalid bytes", as: signedOut, method: "POST", path: "/auth/logout",
		header: map[string]string{"Cookie": auth.CookieName + "=\xff\xfe; " + auth.CookieName + "=x"}, raw: true, want: 204})
	return cs
}

// multipartForm is a multipart/form-data body of text fields, and its
// Content-Type.
func multipartForm(t *testing.T, pairs ...string) ([]byte, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := mw.WriteField(pairs[i], pairs[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

// twoFiles is an upload form with two file parts.
func twoFiles(t *testing.T, a, b []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i, content := range [][]byte{a, b} {
		fw, err := mw.CreateFormFile("file", fmt.Sprintf("%d.wav", i))
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// checkUserAgentStored checks what the session of the User-Agent case
// keeps: text PostgreSQL could store, nothing of the bytes that were not.
func (fx *hostileFixture) checkUserAgentStored() {
	var ua string
	err := fx.h.DB.Pool().QueryRow(context.Background(),
		`SELECT user_agent FROM sessions WHERE user_id = $1`, fx.uaUser.ID).Scan(&ua)
	if err != nil {
		fx.t.Errorf("the session of the User-Agent case: %v", err)
		return
	}
	if !utf8.ValidString(ua) || strings.ContainsRune(ua, 0) || !strings.HasPrefix(ua, "Mozilla/5.0 ") {
		fx.t.Errorf("stored User-Agent %q", ua)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"bandarchive/shared/apptest"
	"bandarchive/shared/audio"
	"bandarchive/shared/auth"
	"bandarchive/shared/config"
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
	// The harness leaves MAX_CHUNK_BYTES at 0 (config.Load alone sets its
	// default): set it, small, as the upload function's own tests do.
	chunks := apptest.Options{Configure: func(c *config.Config) { c.Storage.MaxChunkBytes = tusChunk }}
	apptest.BothWith(t, all, chunks, func(t *testing.T, h *apptest.Harness) {
		fx := newHostileFixture(t, h)
		cases := fx.cases()
		for _, c := range cases {
			fx.check(c)
		}
		if h.Edge == apptest.HTTP {
			fx.checkWhileWriting() // a Lambda event comes whole: no request is ever half-way
		}
		fx.checkUserAgentStored()
		h.WaitJobs()
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
	// Members of their own, for the cases about whose upload is whose and
	// the bound on unfinished uploads.
	prober  who = "prober"                           // owns the uploads the tus sequences walk through
	other   who = "other member"                     // owns an upload nobody else may see
	hoarder who = "member with 3 unfinished uploads" // at the bound
)

// How a route reads its body.
const (
	readsNothing   = ""
	readsInput     = "json or form" // httpx.DecodeInput
	readsJSON      = "json only"    // httpx.DecodeJSON
	readsMultipart = "multipart"
	readsNoBody    = "no body"                         // tus creation: any body is refused
	readsChunk     = "application/offset+octet-stream" // a tus PATCH
)

// The tus protocol as the archive speaks it.
const (
	tusVersion   = "1.0.0"
	offsetStream = "application/offset+octet-stream"
	tusChunk     = 256 << 10 // MAX_CHUNK_BYTES of this test, as the upload function's own tests
)

// hostileSpec is what the test must know of a route to say what is right.
type hostileSpec struct {
	auth  who    // the least who may: signedOut (anyone), member or admin
	reads string // how it reads its body
	ok    int    // the answer to a sane request with real ids
	html  bool   // errors are pages, not JSON (the magic link)
	// sane returns a body the route accepts, and its Content-Type.
	sane func(fx *hostileFixture) ([]byte, string)
	// header are the request headers every case of the route sends, unless
	// the case says otherwise (a tus route's Tus-Resumable, Upload-Offset).
	header map[string]string
	// answer are headers the sane answer (spec.ok) carries; "*" is any
	// value but none.
	answer map[string]string
	// takes are JSON fields the route reads that hostile bodies use as
	// unknown ones elsewhere ("role"): such a body is sane here.
	takes []string
}

var hostileSpecs = map[string]hostileSpec{
	"POST /auth/send-link": {auth: signedOut, reads: readsInput, ok: http.StatusAccepted, sane: func(fx *hostileFixture) ([]byte, string) {
		return jsonBody(map[string]string{"email": fx.unique("stranger") + "@band.example"}), "application/json"
	}},
	"GET /auth/verify/{token}":  {auth: signedOut, reads: readsNothing, ok: http.StatusOK, html: true},
	"POST /auth/verify/{token}": {auth: signedOut, reads: readsNothing, ok: http.StatusSeeOther, html: true},
	"GET /api/me":               {auth: member, reads: readsNothing, ok: http.StatusOK},
	"POST /auth/logout":         {auth: signedOut, reads: readsNothing, ok: http.StatusNoContent},
	"GET /api/account":          {auth: member, reads: readsNothing, ok: http.StatusOK},
	"PATCH /api/account": {auth: member, reads: readsJSON, ok: http.StatusOK, sane: func(*hostileFixture) ([]byte, string) {
		return []byte(`{"display_name":"A name"}`), "application/json"
	}},
	// The wildcard is another session of the asker's own.
	"DELETE /api/account/sessions/{id}": {auth: member, reads: readsNothing, ok: http.StatusNoContent},
	// It signs out the fixture's uploader too, who signs in again to upload.
	"POST /api/account/sign-out-others": {auth: member, reads: readsNothing, ok: http.StatusOK},
	"POST /api/invites":                 {auth: admin, reads: readsNothing, ok: http.StatusCreated},
	"GET /api/invites":                  {auth: admin, reads: readsNothing, ok: http.StatusOK},
	"DELETE /api/invites/{id}":          {auth: admin, reads: readsNothing, ok: http.StatusNoContent},
	"GET /auth/join/{token}":            {auth: signedOut, reads: readsNothing, ok: http.StatusOK},
	"POST /auth/join/{token}": {auth: signedOut, reads: readsInput, ok: http.StatusAccepted, sane: func(fx *hostileFixture) ([]byte, string) {
		return jsonBody(map[string]string{"email": fx.unique("joiner") + "@band.example", "display_name": "Joiner"}), "application/json"
	}},
	"POST /api/upload": {auth: member, reads: readsMultipart, ok: http.StatusCreated, sane: func(fx *hostileFixture) ([]byte, string) {
		return apptest.Multipart(fx.t, nil, "take.wav", fx.freshWAV())
	}},
	// Resumable uploads (tus 1.0.0). Every request but OPTIONS speaks the
	// version; a wildcard is an upload of the one who asks, of
	// len(fx.tusContent) bytes, nothing of it sent yet (a fresh one for a
	// case that may write to it, terminated after).
	"OPTIONS /api/uploads": {auth: member, reads: readsNothing, ok: http.StatusNoContent,
		answer: map[string]string{"Tus-Version": tusVersion, "Tus-Extension": "*", "Tus-Max-Size": "*"}},
	"POST /api/uploads": {auth: member, reads: readsNoBody, ok: http.StatusCreated,
		header: map[string]string{"Tus-Resumable": tusVersion, "Upload-Length": "100000",
			"Upload-Metadata": apptest.TusMetadata(map[string]string{"filename": "take.wav", "title": "Take", "venue": "The Hall"})},
		answer: map[string]string{"Location": "*", "Upload-Expires": "*"}},
	"HEAD /api/uploads/{id}": {auth: member, reads: readsNothing, ok: http.StatusOK,
		header: map[string]string{"Tus-Resumable": tusVersion},
		answer: map[string]string{"Upload-Offset": "0", "Upload-Length": "*", "Cache-Control": "no-store"}},
	"PATCH /api/uploads/{id}": {auth: member, reads: readsChunk, ok: http.StatusNoContent,
		header: map[string]string{"Tus-Resumable": tusVersion, "Upload-Offset": "0"},
		answer: map[string]string{"Upload-Offset": strconv.Itoa(audio.SniffLen)},
		sane: func(fx *hostileFixture) ([]byte, string) {
			return fx.tusContent[:audio.SniffLen], offsetStream // the first 64 KiB decide the format
		}},
	"DELETE /api/uploads/{id}": {auth: member, reads: readsNothing, ok: http.StatusNoContent,
		header: map[string]string{"Tus-Resumable": tusVersion}},
	"GET /api/recordings":      {auth: member, reads: readsNothing, ok: http.StatusOK},
	"GET /api/recordings/{id}": {auth: member, reads: readsNothing, ok: http.StatusOK},
	"PATCH /api/recordings/{id}": {auth: member, reads: readsJSON, ok: http.StatusOK, sane: func(*hostileFixture) ([]byte, string) {
		return []byte(`{"venue":"The Hall"}`), "application/json"
	}},
	"DELETE /api/recordings/{id}":    {auth: member, reads: readsNothing, ok: http.StatusNoContent},
	"GET /api/recordings/{id}/audio": {auth: member, reads: readsNothing, ok: http.StatusOK},
	// The fixture's recording is processed before the cases run.
	"GET /api/recordings/{id}/listen": {auth: member, reads: readsNothing, ok: http.StatusOK},
	// Each sane request gets a recording whose processing failed.
	"POST /api/recordings/{id}/process": {auth: admin, reads: readsNothing, ok: http.StatusAccepted},
	"GET /api/scores":                   {auth: member, reads: readsNothing, ok: http.StatusOK},
	"PUT /api/scores/{recording_id}": {auth: member, reads: readsInput, ok: http.StatusOK, sane: func(*hostileFixture) ([]byte, string) {
		return []byte(`{"score":4}`), "application/json"
	}},
	"DELETE /api/scores/{recording_id}": {auth: member, reads: readsNothing, ok: http.StatusOK},
	"GET /api/band":                     {auth: member, reads: readsNothing, ok: http.StatusOK},
	// The wildcard is a member of the band's own, whom no case signs in.
	"PATCH /api/band/members/{id}": {auth: admin, reads: readsJSON, ok: http.StatusOK, takes: []string{"role"},
		sane: func(*hostileFixture) ([]byte, string) { return []byte(`{"role":"member"}`), "application/json" }},
}

// gate is the answer the session check gives who before the route's own
// code runs, 0 when it lets who through.
func (s hostileSpec) gate(as who) int {
	switch {
	case s.auth != signedOut && (as == signedOut || as == forged):
		return http.StatusUnauthorized
	case s.auth == admin && as != admin:
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
	header map[string]string // over the route's spec.header; "" removes one
	raw    bool              // send body and ctype as they are, even empty, not the route's sane body
	// chunked sends the body without a Content-Length (chunked, on the
	// http edge; a Lambda event always has its whole body).
	chunked bool
	want    int    // 0: any answer but a 5xx
	moved   bool   // want a redirect (301, 307 or 308, as net/http's mux cleans a path) with a Location
	code    string // the JSON error code, "" when not checked
	field   string // the JSON error field, "" when not checked
	// answer are headers the answer must carry; "*" is any value but none.
	answer map[string]string
}

// codeFor is the JSON error code of an error status.
func codeFor(status int, html bool) string {
	if html {
		return ""
	}
	return map[int]string{
		400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
		409: "conflict", 412: "precondition_failed", 413: "too_large", 415: "unsupported", 423: "locked",
		429: "rate_limited",
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
	bandmate    db.User // the member the band's admin cases change
	uaToken     string  // a link mailed by send-link, for the User-Agent case

	tusContent []byte         // a WAV file of a few chunks' worth: each fresh upload's length
	uploads    map[who]string // an upload of member and of admin no case writes to (HEAD, refusals)
	otherUp    string         // an upload of other's
	cleanup    []func()       // what the current case leaves to undo (its fresh uploads)
}

func newHostileFixture(t *testing.T, h *apptest.Harness) *hostileFixture {
	fx := &hostileFixture{t: t, h: h, names: map[string]string{}, users: map[who]db.User{}}
	fx.users[admin] = h.User("admin@band.example", "Admin", db.RoleAdmin)
	fx.users[member] = h.User("member@band.example", "Member", db.RoleMember)
	fx.linker = h.User("linker@band.example", "Linker", db.RoleMember)
	reader := h.User("reader@band.example", "Reader", db.RoleMember)
	fx.uaUser = h.User("agent@band.example", "Agent", db.RoleMember)
	fx.users[prober] = h.User("prober@band.example", "Prober", db.RoleMember)
	fx.users[other] = h.User("other@band.example", "Other", db.RoleMember)
	fx.users[hoarder] = h.User("hoarder@band.example", "Hoarder", db.RoleMember)
	fx.bandmate = h.User("bandmate@band.example", "Bandmate", db.RoleMember)

	fx.uploader = h.Browser("192.0.2.200")
	fx.uploader.SignInAs(fx.users[member])
	fx.recording = fx.freshRecording()
	h.WaitProcessed(fx.recording) // its listening copy is made
	fx.inviteID, fx.inviteToken = fx.freshInviteParts()
	fx.readerToken = fx.insertLink(reader)

	// Resumable uploads: each member may have 3 unfinished at once, so a
	// case that writes to one gets a fresh upload and terminates it after.
	fx.tusContent = apptest.WAV(60_000, 8000) // 120 KB: more than the first 64 KiB, under a chunk
	n := len(fx.tusContent)
	fx.uploads = map[who]string{member: fx.createUpload(member, n, "the member's upload"), admin: fx.createUpload(admin, n, "the admin's upload")}
	fx.otherUp = fx.createUpload(other, n, "another member's upload")
	for i := range 3 {
		fx.createUpload(hoarder, n, fmt.Sprint("the hoarder's upload ", i+1))
	}

	// The User-Agent case confirms a link the way a member gets one: asked
	// for with send-link, read from the mail.
	if r := h.Browser("192.0.2.201").SendLink(fx.uaUser.Email); r.Status != http.StatusAccepted {
		t.Fatalf("send-link for %s: %d %s", fx.uaUser.Email, r.Status, r.Body)
	}
	if to := h.Mail.WaitSent(t, 1, time.Minute)[0].To[0].Email; to != fx.uaUser.Email {
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
// The uploader signs in anew each time: a case may have signed out every
// other session of the member's.
func (fx *hostileFixture) freshRecording() string {
	fx.uploader.SignInAs(fx.users[member])
	return fx.uploader.UploadOK(nil, "take.wav", fx.freshWAV()).ID
}

// session starts a session of u's, as on another device, and returns its
// id.
func (fx *hostileFixture) session(u db.User) string {
	var id string
	err := fx.h.DB.Pool().QueryRow(context.Background(), `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
		VALUES (gen_random_uuid(), $1, $2, $3, $4, $3) RETURNING id`, auth.NewToken().Hash(), u.ID, fx.h.Clock.Now(), fx.h.Clock.Now().Add(time.Hour)).Scan(&id)
	if err != nil {
		fx.t.Fatalf("start a session: %v", err)
	}
	return id
}

// failedRecording uploads a recording and, once it is processed, marks
// its processing failed, as an admin may then retry it.
func (fx *hostileFixture) failedRecording() string {
	id := fx.freshRecording()
	fx.h.WaitProcessed(id)
	if err := fx.h.DB.FailProcessing(context.Background(), uuid.MustParse(id), "a test's failure"); err != nil {
		fx.t.Fatal(err)
	}
	return id
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

// tus sends a request of the tus protocol as who, outside the table: to
// set a case up or clean up after it. why names it for the log check.
func (fx *hostileFixture) tus(as who, method, path string, header map[string]string, body []byte, why string) apptest.Response {
	fx.t.Helper()
	r := fx.newRequest(as, method, path, body, "")
	r.Header.Set("Tus-Resumable", tusVersion)
	if body != nil {
		r.Header.Set("Content-Type", offsetStream)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	id := fmt.Sprintf("hostile-setup-%d", len(fx.names))
	r.Header.Set("X-Request-Id", id)
	fx.names[id] = why
	return fx.h.Do(r)
}

// createUpload starts an upload of length bytes as who and returns its id.
func (fx *hostileFixture) createUpload(as who, length int, why string) string {
	fx.t.Helper()
	r := fx.tus(as, "POST", "/api/uploads", map[string]string{
		"Upload-Length":   strconv.Itoa(length),
		"Upload-Metadata": apptest.TusMetadata(map[string]string{"filename": "take.wav"}),
	}, nil, why)
	loc := r.Header.Get("Location")
	if r.Status != http.StatusCreated || !strings.HasPrefix(loc, "/api/uploads/") {
		fx.t.Fatalf("%s: create an upload as %s: %d Location %q %s", why, as, r.Status, loc, r.Body)
	}
	return strings.TrimPrefix(loc, "/api/uploads/")
}

// patchUpload sends chunk at offset to upload id as who, wanting 204.
func (fx *hostileFixture) patchUpload(as who, id string, offset int, chunk []byte, why string) apptest.Response {
	fx.t.Helper()
	r := fx.tus(as, "PATCH", "/api/uploads/"+id, map[string]string{"Upload-Offset": strconv.Itoa(offset)}, chunk, why)
	if r.Status != http.StatusNoContent {
		fx.t.Fatalf("%s: PATCH %d bytes at %d: %d %s", why, len(chunk), offset, r.Status, r.Body)
	}
	return r
}

// freshUpload is a new upload of who's, terminated once the case is done.
func (fx *hostileFixture) freshUpload(as who) string {
	id := fx.createUpload(as, len(fx.tusContent), "a fresh upload for a case")
	fx.cleanup = append(fx.cleanup, func() { fx.terminate(as, id) })
	return id
}

// terminate cancels upload id of who's, if a case has not already.
func (fx *hostileFixture) terminate(as who, id string) {
	fx.t.Helper()
	r := fx.tus(as, "DELETE", "/api/uploads/"+id, nil, nil, "terminating upload "+id)
	if r.Status != http.StatusNoContent && r.Status != http.StatusNotFound {
		fx.t.Errorf("terminate upload %s after a case: %d %s", id, r.Status, r.Body)
	}
}

var wildcardRE = regexp.MustCompile(`\{[a-z_]+\}`)

// fill puts fill, or real ids, in the wildcards of path. Cases that use a
// thing up (deleting it, spending a link, writing to an upload) get a
// fresh one each. An upload is the asker's own: another's does not exist.
func (fx *hostileFixture) fill(as who, method, path, fill string, spend bool) string {
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
		case name == "id" && strings.HasPrefix(path, "/api/uploads/"):
			if _, ok := fx.uploads[as]; !ok {
				return fx.uploads[member] // signed out: refused before any upload is looked at
			}
			if method != http.MethodHead && spend {
				return fx.freshUpload(as)
			}
			return fx.uploads[as]
		case name == "id" && strings.HasPrefix(path, "/api/account/sessions/"):
			u, ok := fx.users[as]
			if !ok {
				u = fx.bandmate // signed out: refused before any session is looked at
			}
			return fx.session(u)
		case name == "id" && strings.HasPrefix(path, "/api/band/members/"):
			return fx.bandmate.ID.String()
		case name == "id" && strings.HasPrefix(path, "/api/recordings/"), name == "recording_id":
			if method == http.MethodDelete && path == "/api/recordings/{id}" && spend {
				return fx.freshRecording()
			}
			if path == "/api/recordings/{id}/process" && spend {
				return fx.failedRecording()
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
	if u, ok := fx.users[as]; ok {
		br := fx.h.Browser("192.0.2.1")
		br.SignInAs(u)
		r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: br.Session()})
	} else if as == forged {
		r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: auth.NewToken().String()})
	}
	return r
}

// check sends one case and holds the answer to it.
func (fx *hostileFixture) check(c hostile) {
	t := fx.t
	t.Helper()
	defer fx.undo()
	// A case the session or Origin check refuses spends nothing: it may
	// aim at the shared things.
	spend := c.want != http.StatusUnauthorized && c.want != http.StatusForbidden
	path := fx.fill(c.as, c.method, c.path, c.fill, spend)
	target := path
	if c.query != "" {
		target += "?" + c.query
	}
	r := fx.newRequest(c.as, c.method, target, c.body, c.ctype)
	if c.chunked {
		r.Body, r.ContentLength, r.GetBody = io.NopCloser(bytes.NewReader(c.body)), -1, nil
	}
	id := fmt.Sprintf("hostile-%d", len(fx.names))
	r.Header.Set("X-Request-Id", id)
	spec, known := hostileSpecs[c.method+" "+c.path]
	for k, v := range spec.header {
		r.Header.Set(k, v)
	}
	for k, v := range c.header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	name := fmt.Sprintf("%s %s: %s, as %s", c.method, c.path, c.name, c.as)
	fx.names[id] = name
	got := fx.h.Do(r)
	if rid := got.Header.Get("X-Request-Id"); rid != "" && rid != id {
		fx.names[rid] = name
	}
	if c.method == http.MethodHead {
		c.code, c.field = "", "" // an answer to HEAD has no body to say them
	}
	// What the answer must say in its headers: those of the sane answer
	// when the case sent the sane request, and the case's own.
	answer := map[string]string{}
	if known && !c.raw && got.Status == spec.ok {
		maps.Copy(answer, spec.answer)
	}
	maps.Copy(answer, c.answer)
	// A tus answer says Tus-Resumable, whatever it is, once the request is
	// past the session and Origin checks and the mux.
	tusAnswer := strings.HasPrefix(c.path, "/api/uploads") && !c.moved &&
		got.Status != http.StatusUnauthorized && got.Status != http.StatusForbidden && got.Status != http.StatusMethodNotAllowed
	if tusAnswer {
		answer["Tus-Resumable"] = tusVersion
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
	for k, v := range answer {
		if g := got.Header.Get(k); v == "*" && g == "" || v != "*" && g != v {
			t.Errorf("%s: %d with %s %q, want %q", name, got.Status, k, g, v)
		}
	}
	// An upload a case created goes again, so the next case may create one.
	if loc := got.Header.Get("Location"); c.method == http.MethodPost && c.path == "/api/uploads" &&
		got.Status == http.StatusCreated && strings.HasPrefix(loc, "/api/uploads/") {
		fx.cleanup = append(fx.cleanup, func() { fx.terminate(c.as, strings.TrimPrefix(loc, "/api/uploads/")) })
	}
}

// undo cleans up after a case.
func (fx *hostileFixture) undo() {
	for _, f := range fx.cleanup {
		f()
	}
	fx.cleanup = nil
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
	cs = append(cs, fx.tusCases()...)
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
	// Only writes are held to the Origin check; GET, HEAD and OPTIONS are
	// safe methods, answered whatever Origin they come from.
	unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions

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
		for _, o := range []struct{ name, value string }{
			{"Origin not UTF-8", "https://\xffarchive.test"},
			{"Origin of another site", "https://evil.example"},
		} {
			if unsafe {
				add(hostile{name: o.name, as: as, header: map[string]string{"Origin": o.value},
					want: http.StatusForbidden, code: "forbidden"})
			} else {
				add(hostile{name: o.name + ", on a safe method", as: as, header: map[string]string{"Origin": o.value},
					want: want, code: code})
			}
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
				if slices.Contains(spec.takes, field) {
					status = spec.ok
				}
			case readsMultipart:
				status = b.upload
			case readsNoBody:
				if b.body != "" {
					status = http.StatusBadRequest // create the upload, then PATCH its bytes
				}
			case readsChunk:
				status = http.StatusUnsupportedMediaType // none is application/offset+octet-stream
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

	// The band: roles are admin or member, disabled is true or false; an
	// admin cannot disable themself, nor leave the band without an active
	// admin (the fixture's admin is the only one once the bandmate is not).
	members := "/api/band/members/{id}"
	for _, v := range []string{`"owner"`, `""`, `"Admin"`, `"admin "`, `1`, `true`, `null`, `["admin"]`, `"admin\u0000"`} {
		row(admin, "PATCH", members, "role "+v, []byte(`{"role":`+v+`}`), j, 400, "role")
	}
	for _, v := range []string{`"yes"`, `1`, `null`, `"true"`, `{}`} {
		row(admin, "PATCH", members, "disabled "+v, []byte(`{"disabled":`+v+`}`), j, 400, "disabled")
	}
	row(admin, "PATCH", members, "display_name is not the admin's to change", []byte(`{"display_name":"X"}`), j, 400, "display_name")
	row(admin, "PATCH", members, "the bandmate a member again", []byte(`{"role":"member"}`), j, 200, "")
	row(admin, "PATCH", members, "disable the bandmate", []byte(`{"disabled":true}`), j, 200, "")
	row(admin, "PATCH", members, "enable the bandmate", []byte(`{"disabled":false,"role":"member"}`), j, 200, "")
	self := fx.users[admin].ID.String()
	for _, c := range []struct{ name, body string }{
		{"disable myself", `{"disabled":true}`},
		{"unmake the last admin", `{"role":"member"}`},
	} {
		cs = append(cs, hostile{name: c.name, as: admin, method: "PATCH", path: members, fill: self,
			body: []byte(c.body), ctype: j, raw: true, want: http.StatusConflict, code: "conflict"})
	}

	// My account: a display name is held to the join form's rules; nothing
	// else of mine can be changed here (not my role, nor my email).
	for what, name := range badNames {
		row(member, "PATCH", "/api/account", "display name with "+what, jsonBody(map[string]string{"display_name": name}), j, 400, "display_name")
	}
	row(member, "PATCH", "/api/account", "display name of invalid UTF-8 bytes", []byte("{\"display_name\":\"Ann\xff\xfe\"}"), j, 200, "")
	row(member, "PATCH", "/api/account", "display name with tabs and newlines is folded", []byte(`{"display_name":"Ann\t\n  Smith"}`), j, 200, "")
	for _, f := range []string{"role", "email", "id", "disabled"} {
		row(member, "PATCH", "/api/account", "field "+f+" cannot be changed", []byte(`{"`+f+`":"admin"}`), j, 400, f)
	}
	row(member, "PATCH", "/api/account", "display name as a number", []byte(`{"display_name":5}`), j, 400, "display_name")
	row(member, "PATCH", "/api/account", "display name null", []byte(`{"display_name":null}`), j, 400, "display_name")
	// Another member's session is not mine to end: as if there were none.
	cs = append(cs, hostile{name: "another member's session", as: member, method: "DELETE", path: "/api/account/sessions/{id}",
		fill: fx.session(fx.bandmate), raw: true, want: http.StatusNotFound, code: "not_found"})

	// Logging out with a cookie that is not a token.
	cs = append(cs, hostile{name: "logout with a cookie of invalid bytes", as: signedOut, method: "POST", path: "/auth/logout",
		header: map[string]string{"Cookie": auth.CookieName + "=\xff\xfe; " + auth.CookieName + "=x"}, raw: true, want: 204})
	return cs
}

// tusCases are the cases aimed at the checks of the resumable-upload
// routes: the protocol's headers, the metadata, offsets and chunks, and
// sequences through one upload (rows run in order).
func (fx *hostileFixture) tusCases() []hostile {
	const create, one = "/api/uploads", "/api/uploads/{id}"
	var cs []hostile
	add := func(c hostile) {
		c.raw = true
		if c.as == "" {
			c.as = member
		}
		if c.code == "" && c.want >= 400 {
			c.code = codeFor(c.want, false)
		}
		cs = append(cs, c)
	}
	n := len(fx.tusContent)
	head := fx.tusContent[:audio.SniffLen]
	noise := make([]byte, audio.SniffLen+1000) // no audio format starts so
	rand.NewChaCha8([32]byte{'t', 'u', 's'}).Read(noise)
	meta := func(kv ...string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return apptest.TusMetadata(m)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

	// Every request but OPTIONS speaks tus 1.0.0, or is refused before
	// anything is looked at, saying which version is spoken.
	for _, v := range []string{"", "0.2.2", "1.0", "1.0.0.0", "v1.0.0", "1.0.0, 0.2.2", "\xff\xfe", strings.Repeat("1", 8<<10)} {
		for _, m := range []string{"POST", "HEAD", "PATCH", "DELETE"} {
			c := hostile{name: fmt.Sprintf("Tus-Resumable %.20q", v), method: m, path: one, header: map[string]string{"Tus-Resumable": v},
				want: http.StatusPreconditionFailed, answer: map[string]string{"Tus-Version": tusVersion}}
			switch m {
			case "POST":
				c.path = create
			case "PATCH":
				c.body, c.ctype = head, offsetStream
			}
			add(c)
		}
		add(hostile{name: fmt.Sprintf("Tus-Resumable %.20q (OPTIONS needs none)", v), method: "OPTIONS", path: create,
			header: map[string]string{"Tus-Resumable": v}, want: http.StatusNoContent, answer: map[string]string{"Tus-Version": tusVersion}})
	}

	// Creation: the length, then the metadata, checked before any byte.
	for v, want := range map[string]int{
		"": 400, "-1": 400, "abc": 400, "1.5": 400, "1e6": 400, "0x100": 400, "100 000": 400, "100, 100": 400,
		"\xef\xbc\x91\xef\xbc\x90\xef\xbc\x90": 400, "99999999999999999999": 400, "-9223372036854775808": 400,
		"0": 400, "9223372036854775807": 413, strconv.Itoa(500<<20 + 1): 413, strconv.Itoa(500 << 20): 201,
	} {
		field := "Upload-Length"
		if v == "0" {
			field = "file" // an empty upload
		}
		if want != 400 {
			field = ""
		}
		add(hostile{name: fmt.Sprintf("Upload-Length %.24q", v), method: "POST", path: create,
			header: map[string]string{"Upload-Length": v}, want: want, field: field})
	}
	add(hostile{name: "Upload-Defer-Length instead of Upload-Length", method: "POST", path: create,
		header: map[string]string{"Upload-Length": "", "Upload-Defer-Length": "1"}, want: 400})
	add(hostile{name: "Upload-Defer-Length with Upload-Length", method: "POST", path: create,
		header: map[string]string{"Upload-Defer-Length": "1"}, want: 400})
	add(hostile{name: "creation with the upload's bytes (creation-with-upload is not served)", method: "POST", path: create,
		body: head, ctype: offsetStream, want: 400})
	for v, field := range map[string]string{
		"":                               "filename", // none
		",, ,":                           "filename",
		"filename":                       "filename", // a key without a value: an empty name
		"filename ":                      "filename",
		"filename " + b64("   "):         "filename",
		"title " + b64("Gig"):            "filename",
		" " + b64("take.wav"):            "filename", // a value without a key is a key
		"filename !!!":                   "Upload-Metadata",
		"filename dGFrZS53YXY":           "Upload-Metadata", // unpadded
		"filename dGFr-S53YXY_":          "Upload-Metadata", // the URL alphabet
		"filename \xff\xfe":              "Upload-Metadata",
		"filename " + b64("a.wav") + "=": "Upload-Metadata",
		"filename " + b64("a.wav") + ",title %%%":                   "Upload-Metadata",
		"filename " + b64("a.wav") + ", " + b64("x"):                "", // a key of base64, no value: ignored
		"filename " + b64("a.wav") + ",filetype " + b64("\x00\xff"): "", // a client's own key: ignored
		"filename " + b64("a.wav") + ",\xff\xfe " + b64("x"):        "",
		"filename " + b64("a.wav") + ",filename " + b64("\x00"):     "", // the last one counts: cleaned to a name
		"filename " + b64("a.wav") + ",title ":                      "", // empty: the file's own title
		"filename " + b64("a.wav") + ",title " + b64(" \t "):        "",
	} {
		want := 201
		if field != "" {
			want = 400
		}
		add(hostile{name: fmt.Sprintf("Upload-Metadata %.40q", v), method: "POST", path: create,
			header: map[string]string{"Upload-Metadata": v}, want: want, field: field})
	}
	// The file name is cleaned, never refused (as in a one-request upload).
	for what, name := range map[string]string{
		"NUL": "a\x00b.wav", "only NULs": "\x00\x00", "CRLF and a header": "a\r\nX-Evil: 1.wav", "ANSI escape": "\x1b[2Jtake.wav",
		"invalid UTF-8": "\xff\xfe", "U+202E": "\u202evaw.exe", "U+2066": "\u2066take.wav", "traversal": "../../../etc/passwd",
		"backslash traversal": "..\\..\\boot.ini", "dots": "..", "10 KB": strings.Repeat("n", 10<<10) + ".wav", "U+FFFD": "\ufffd.wav",
	} {
		add(hostile{name: "file name with " + what, method: "POST", path: create,
			header: map[string]string{"Upload-Metadata": meta("filename", name)}, want: 201})
	}
	// The recording's fields are held to the rules of an edit, now.
	badText := map[string]string{
		"NUL": "Live\x00", "BEL": "Live\x07", "ANSI escape": "\x1b[2JLive", "DEL": "Live\x7f", "C1 control": "Live\u009b",
		"U+202E": "Live\u202e3pm.gnos", "U+2066": "\u2066Live", "U+200E": "Live\u200e", "U+061C": "Live\u061c",
		"invalid UTF-8": "Live \xff\xfe",
	}
	for _, field := range []string{"title", "venue", "source", "notes"} {
		for what, v := range badText {
			add(hostile{name: field + " with " + what, method: "POST", path: create,
				header: map[string]string{"Upload-Metadata": meta("filename", "a.wav", field, v)}, want: 400, field: field})
		}
	}
	add(hostile{name: "title of 201 characters", method: "POST", path: create,
		header: map[string]string{"Upload-Metadata": meta("filename", "a.wav", "title", strings.Repeat("é", 201))}, want: 400, field: "title"})
	add(hostile{name: "notes of 10001 characters", method: "POST", path: create,
		header: map[string]string{"Upload-Metadata": meta("filename", "a.wav", "notes", strings.Repeat("n", 10001))}, want: 400, field: "notes"})
	add(hostile{name: "notes with line breaks and tabs", method: "POST", path: create,
		header: map[string]string{"Upload-Metadata": meta("filename", "a.wav", "notes", "a\nb\r\n\tc")}, want: 201})
	for what, d := range map[string]string{
		"February 30": "1998-02-30", "year 0": "0000-01-01", "far future": "9999-12-31", "with NUL": "1998-07-14\x00",
		"invalid UTF-8": "\xff", "a timestamp": "1998-07-14T00:00:00Z", "U+202E": "1998-07-14\u202e",
	} {
		add(hostile{name: "recorded_date " + what, method: "POST", path: create,
			header: map[string]string{"Upload-Metadata": meta("filename", "a.wav", "recorded_date", d)}, want: 400, field: "recorded_date"})
	}

	// PATCH: the offset, the type and the size of a chunk, on a fresh
	// upload at byte 0.
	for v, want := range map[string]int{
		"": 400, "abc": 400, "-1": 400, "1.5": 400, "0x0": 400, "0 ": 204, "\xff": 400, "99999999999999999999": 400,
		"-9223372036854775808": 400, "9223372036854775807": 409, "1": 409, strconv.Itoa(n): 409, strconv.Itoa(n + 1): 409,
	} {
		c := hostile{name: fmt.Sprintf("Upload-Offset %.24q", v), method: "PATCH", path: one, body: head, ctype: offsetStream,
			header: map[string]string{"Upload-Offset": v}, want: want}
		switch want {
		case 400:
			c.field = "Upload-Offset"
		case 409:
			c.answer = map[string]string{"Upload-Offset": "0"} // where to continue
		}
		add(c)
	}
	for ct, want := range map[string]int{
		"": 415, "application/octet-stream": 415, "application/json": 415, "multipart/form-data; boundary=x": 415,
		"\xff\xfe": 415, "application/offset+octet-stream-x": 415, "text/plain; x=application/offset+octet-stream": 415,
		"application/offset+octet-stream; charset=utf-8": 204, "Application/Offset+Octet-Stream": 204,
	} {
		add(hostile{name: fmt.Sprintf("Content-Type %q", ct), method: "PATCH", path: one, body: head, ctype: ct, want: want})
	}
	for _, chunked := range []bool{false, true} {
		how := ""
		if chunked {
			how = ", without Content-Length"
		}
		add(hostile{name: "a chunk past the upload's length" + how, method: "PATCH", path: one,
			body: append(slices.Clip(fx.tusContent), 'x'), ctype: offsetStream, chunked: chunked, want: 413})
		add(hostile{name: "random bytes" + how, method: "PATCH", path: one, body: noise, ctype: offsetStream, chunked: chunked, want: 415})
	}
	// Over MAX_CHUNK_BYTES: refused at once when the Content-Length says
	// so; without one, what fits in a chunk is kept (and acknowledged,
	// for a HEAD to tell), the rest refused.
	add(hostile{name: "a chunk over MAX_CHUNK_BYTES", method: "PATCH", path: one, body: make([]byte, tusChunk+1),
		ctype: offsetStream, want: 413})
	big := apptest.WAV(150_000, 8000)
	bigUp := fx.createUpload(other, len(big), "an upload of more than a chunk")
	add(hostile{name: "a chunk over MAX_CHUNK_BYTES, without Content-Length", as: other, method: "PATCH", path: one, fill: bigUp,
		body: big[:tusChunk+1], ctype: offsetStream, chunked: true, want: 413})
	add(hostile{name: "where it stands after a chunk over MAX_CHUNK_BYTES", as: other, method: "HEAD", path: one, fill: bigUp,
		want: 200, answer: map[string]string{"Upload-Length": strconv.Itoa(len(big))}})
	add(hostile{name: "an empty chunk", method: "PATCH", path: one, ctype: offsetStream, want: 204,
		answer: map[string]string{"Upload-Offset": "0"}})
	add(hostile{name: "the whole file in one chunk", method: "PATCH", path: one, body: fx.tusContent, ctype: offsetStream, want: 204,
		answer: map[string]string{"Upload-Offset": strconv.Itoa(n), "Recording-Id": "*"}})
	// X-HTTP-Method-Override is not served: a POST to an upload is no PATCH.
	add(hostile{name: "POST with X-HTTP-Method-Override: PATCH", method: "POST", path: one, fill: fx.uploads[member],
		body: head, ctype: offsetStream, header: map[string]string{"Tus-Resumable": tusVersion, "Upload-Offset": "0",
			"X-HTTP-Method-Override": "PATCH"}, want: 405})

	// Whose upload: another member's, even to an admin, and an expired one
	// do not exist; the other member's stays as it was.
	expired := fx.createUpload(member, n, "an upload that expires")
	if _, err := fx.h.DB.Pool().Exec(context.Background(), `UPDATE uploads SET expires_at = $2 WHERE id = $1`,
		expired, fx.h.Clock.Now().Add(-time.Second)); err != nil {
		fx.t.Fatal(err)
	}
	for _, as := range []who{member, admin} {
		for what, id := range map[string]string{"another member's upload": fx.otherUp, "an expired upload": expired} {
			add(hostile{name: "HEAD of " + what, as: as, method: "HEAD", path: one, fill: id, want: 404})
			add(hostile{name: "PATCH of " + what, as: as, method: "PATCH", path: one, fill: id, body: head, ctype: offsetStream, want: 404})
			add(hostile{name: "DELETE of " + what, as: as, method: "DELETE", path: one, fill: id, want: 404})
		}
	}
	add(hostile{name: "its own upload after others tried it", as: other, method: "HEAD", path: one, fill: fx.otherUp, want: 200,
		answer: map[string]string{"Upload-Offset": "0", "Upload-Length": strconv.Itoa(n)}})

	// At the bound of unfinished uploads: no fourth.
	add(hostile{name: "a fourth unfinished upload", as: hoarder, method: "POST", path: create, want: 429})
	add(hostile{name: "OPTIONS at the bound", as: hoarder, method: "OPTIONS", path: create, want: 204})

	// Random bytes named .wav: refused with the PATCH that brings the
	// first 64 KiB, and the upload is gone.
	bad := fx.createUpload(prober, n, "an upload of noise")
	add(hostile{name: "random bytes, in two chunks: the first", as: prober, method: "PATCH", path: one, fill: bad,
		body: noise[:1000], ctype: offsetStream, want: 204, answer: map[string]string{"Upload-Offset": "1000"}})
	add(hostile{name: "random bytes, in two chunks: the one past 64 KiB", as: prober, method: "PATCH", path: one, fill: bad,
		body: noise[1000:], ctype: offsetStream, header: map[string]string{"Upload-Offset": "1000"}, want: 415})
	add(hostile{name: "HEAD of an upload refused as not audio", as: prober, method: "HEAD", path: one, fill: bad, want: 404})
	add(hostile{name: "PATCH of an upload refused as not audio", as: prober, method: "PATCH", path: one, fill: bad,
		body: head, ctype: offsetStream, want: 404})
	// RIFF/WAVE over noise: taken for a WAV by its first bytes, refused
	// once complete, when its header cannot be read; the upload is gone.
	fake := append([]byte("RIFF\xff\xff\x00\x00WAVE"), noise...)
	fakeUp := fx.createUpload(prober, len(fake), "RIFF/WAVE over noise")
	add(hostile{name: "RIFF/WAVE over noise, whole", as: prober, method: "PATCH", path: one, fill: fakeUp,
		body: fake, ctype: offsetStream, want: 415})
	add(hostile{name: "HEAD after RIFF/WAVE over noise", as: prober, method: "HEAD", path: one, fill: fakeUp, want: 404})

	// One upload, walked through: a chunk, where it stands, chunks at the
	// wrong offset or past the end, the rest, and what a client that lost
	// the last answer sees.
	seq := fx.createUpload(prober, n, "an upload walked through")
	step := func(name, method string, offset int, body []byte, want int, answer map[string]string) {
		c := hostile{name: name, as: prober, method: method, path: one, fill: seq, want: want, answer: answer}
		if method == "PATCH" {
			c.body, c.ctype, c.header = body, offsetStream, map[string]string{"Upload-Offset": strconv.Itoa(offset)}
		}
		add(c)
	}
	at := func(off int) map[string]string { return map[string]string{"Upload-Offset": strconv.Itoa(off)} }
	step("the first 1000 bytes", "PATCH", 0, fx.tusContent[:1000], 204, at(1000))
	step("where it stands", "HEAD", 0, nil, 200, map[string]string{"Upload-Offset": "1000", "Upload-Length": strconv.Itoa(n)})
	step("the first bytes again", "PATCH", 0, fx.tusContent[:1000], 409, at(1000))
	step("a gap", "PATCH", 2000, fx.tusContent[2000:3000], 409, at(1000))
	step("the rest and a byte more", "PATCH", 1000, append(slices.Clip(fx.tusContent[1000:]), 0), 413, nil)
	step("where it stands after that", "HEAD", 0, nil, 200, at(1000))
	step("the rest", "PATCH", 1000, fx.tusContent[1000:], 204, map[string]string{"Upload-Offset": strconv.Itoa(n), "Recording-Id": "*"})
	step("a finished upload", "HEAD", 0, nil, 200, map[string]string{"Upload-Offset": strconv.Itoa(n), "Recording-Id": "*"})
	step("the end again, empty", "PATCH", n, nil, 204, map[string]string{"Upload-Offset": strconv.Itoa(n), "Recording-Id": "*"})
	step("a byte past the end of a finished upload", "PATCH", n, []byte{0}, 413, nil)
	step("the first bytes of a finished upload", "PATCH", 0, fx.tusContent[:1000], 409, at(n))
	step("terminating a finished upload", "DELETE", 0, nil, 204, nil)
	step("after termination", "HEAD", 0, nil, 404, nil)
	step("a chunk after termination", "PATCH", 0, fx.tusContent[:1000], 404, nil)
	step("terminating twice", "DELETE", 0, nil, 404, nil)
	return cs
}

// checkWhileWriting holds a PATCH open half-sent, its bytes reaching the
// upload's file, and meanwhile sends the other requests of that upload:
// writes are refused (423), a HEAD answers; cut off, what arrived is
// acknowledged and the upload continues from there.
func (fx *hostileFixture) checkWhileWriting() {
	t := fx.t
	n := len(fx.tusContent)
	id := fx.createUpload(member, n, "an upload being written")
	br := fx.h.Browser("192.0.2.202")
	br.SignInAs(fx.users[member])
	u, _ := url.Parse(fx.h.URL())
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fx.names["hostile-writer"] = "a PATCH cut off half-way"
	fmt.Fprintf(conn, "PATCH /api/uploads/%s HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nTus-Resumable: %s\r\nUpload-Offset: 0\r\n"+
		"Content-Type: %s\r\nContent-Length: %d\r\nCookie: %s=%s\r\nX-Request-Id: hostile-writer\r\n\r\n",
		id, u.Host, apptest.BaseURL, tusVersion, offsetStream, n, auth.CookieName, br.Session())
	const sent = 80_000 // more than the write buffer: it reaches the file
	conn.Write(fx.tusContent[:sent])
	partial := filepath.Join(fx.h.Parts.Config.Storage.UploadsDir, ".partial", id)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if st, err := os.Stat(partial); err == nil && st.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the half-sent PATCH never reached %s", partial)
		}
	}
	const one = "/api/uploads/{id}"
	for _, c := range []hostile{
		{name: "PATCH while another writes", method: "PATCH", body: fx.tusContent[:1000], ctype: offsetStream, want: 423},
		{name: "PATCH at its end while another writes", method: "PATCH", body: fx.tusContent[sent:], ctype: offsetStream,
			header: map[string]string{"Upload-Offset": strconv.Itoa(sent)}, want: 409, answer: map[string]string{"Upload-Offset": "0"}},
		{name: "DELETE while another writes", method: "DELETE", want: 423},
		{name: "HEAD while another writes", method: "HEAD", want: 200, answer: map[string]string{"Upload-Offset": "0"}},
	} {
		c.as, c.path, c.fill, c.raw, c.code = member, one, id, true, codeFor(c.want, false)
		fx.check(c)
	}
	conn.Close()
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got = fx.tus(member, "HEAD", "/api/uploads/"+id, nil, nil, "waiting for a cut-off PATCH").Header.Get("Upload-Offset"); got == strconv.Itoa(sent) {
			break
		}
	}
	if got != strconv.Itoa(sent) {
		t.Fatalf("after a PATCH cut off at byte %d: Upload-Offset %q", sent, got)
	}
	fx.check(hostile{name: "the rest after a cut-off PATCH", as: member, method: "PATCH", path: one, fill: id, raw: true,
		body: fx.tusContent[sent:], ctype: offsetStream, header: map[string]string{"Upload-Offset": strconv.Itoa(sent)},
		want: 204, answer: map[string]string{"Upload-Offset": strconv.Itoa(n), "Recording-Id": "*"}})
	fx.terminate(member, id)
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

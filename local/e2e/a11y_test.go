package e2e

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"bandarchive/local/stack"
	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/mail/mailersendfake"
	"bandarchive/shared/routes"
)

// axeSource is axe-core, vendored (testdata/axe-core/README.md says which
// release and how it was fetched).
//
//go:embed testdata/axe-core/axe.min.js
var axeSource string

// Who opens a page.
const (
	visitor = "visitor" // signed out
	admin   = "admin"   // signed in, as the admin
	member  = "member"  // signed in, as a member who is no admin
)

// checkedPage is a page as TestEveryPage opens it: its path in the page
// table, who opens it (a visitor, the admin, or a member who is no admin),
// and a text it shows once it has its data. Each {name} in either is
// filled from the archive the test builds: id, the recording with the
// 200-character title; title, that title; token, an invite's; link, a
// sign-in link's, not yet used; spent, a well-formed token that is no
// link.
type checkedPage struct {
	path  string
	who   string
	shows string
}

// checkedPages: every page of routes.Pages(), the pages of the link flow,
// which the verify function answers, and the page for a path that is no
// page. A page is one line.
var checkedPages = []checkedPage{
	{"/login", visitor, "Send me a sign-in link"},
	{"/join/{token}", visitor, "This invite works until"},
	{"/auth/verify/{link}", visitor, "Press the button to finish signing in"},
	{"/auth/verify/{spent}", visitor, "expired or was already used"},
	{"/{$}", admin, "3 recordings"},
	{"/recordings/{id}", admin, "{title}"},
	{"/upload", admin, "per file"},
	{"/admin/invites", admin, "Pending"},
	{"/admin/invites", member, "Only a band admin can invite"},
	{"/band", admin, "1 disabled"},
	{"/band", member, "1 disabled"},
	{"/account", admin, "This device"},
	{"/no/such/page", visitor, "Page not found"}, // any path that is no page
}

// Widths of a phone, a tablet and a desktop, in CSS pixels.
var checkedWidths = []int64{390, 768, 1280}

// The colour schemes a member's system may prefer: the pages have a dark
// theme, whose contrast axe checks too.
var checkedSchemes = []string{"light", "dark"}

// maxCLS is the most cumulative layout shift a page may have: what Web
// Vitals calls good.
const maxCLS = 0.1

// TestEveryPage opens every page, filled as a band's archive fills it (a
// 200-character title, a file name of underscores and no spaces, an
// accented venue, an invite, a member with a long name and a disabled
// one), at a phone's 390 px, a tablet's 768 px and a desktop's 1280 px,
// in the light and the dark colour scheme; on each, once the page shows
// its data:
//   - axe-core finds no accessibility violation (any rule, any impact);
//   - its cumulative layout shift, as Web Vitals counts it (shifts not
//     caused by input, in session windows), stays under 0.1;
//   - it does not scroll sideways.
//
// A page added to the page table must get a line in checkedPages.
func TestEveryPage(t *testing.T) {
	chromium(t)
	checkEveryPageListed(t)
	st, fake := startStack(t)
	base := st.BaseURL
	alloc := browser(t)
	tabs := map[string]context.Context{visitor: tab(t, alloc), admin: tab(t, alloc), member: tab(t, alloc)}
	signIn(t, tabs[admin], base, fake, 1)
	session := sessionCookie(t, tabs[admin], base)

	long := strings.TrimSpace(strings.Repeat("Lantern over the harbour, ", 8))[:200]
	id := uploadTo(t, st, session, map[string]string{"title": long, "venue": "Roxy, Köln", "source": "DAT", "recorded_date": "1998-03-14",
		"notes": "Second set. The tape wobbles in the middle of the third song."}, "long.wav", apptest.WAV(8000, 8000))
	uploadTo(t, st, session, nil, "Rehearsal_2003_03_14_take_2_final_mix_master_version_three_withoutanyspacesatall.wav", apptest.WAV(8001, 8000))
	uploadTo(t, st, session, map[string]string{"title": "Soundcheck", "source": "cassette"}, "soundcheck.wav", apptest.WAV(8002, 8000))
	waitProcessed(t, st, session, id)
	sam := addMembers(t, st.DatabaseURL)
	if _, err := chromedp.Call(tabs[member], network.SetCookie, network.SetCookieParams{Name: sam.Name, Value: sam.Value, URL: base}); err != nil {
		t.Fatalf("sign the member in: %v", err)
	}
	fill := map[string]string{
		"id":    id,
		"title": long,
		"token": inviteToken(t, st, session),
		"link":  strings.TrimPrefix(linkFor(t, st, fake, 2), base+"/auth/verify/"),
		"spent": auth.NewToken().String(),
	}

	for _, tabCtx := range tabs {
		if _, err := chromedp.Call(tabCtx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchScript}); err != nil {
			t.Fatalf("watch layout shifts: %v", err)
		}
	}
	for _, p := range checkedPages {
		url := base + fillIn(t, strings.ReplaceAll(p.path, "{$}", ""), fill)
		shows := jsString(fillIn(t, p.shows, fill))
		for _, scheme := range checkedSchemes {
			for _, width := range checkedWidths {
				t.Run(fmt.Sprintf("%s %s at %d px", p.name(), scheme, width), func(t *testing.T) {
					ctx := tabs[p.who]
					if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
						Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
						t.Fatalf("prefer a %s colour scheme: %v", scheme, err)
					}
					run(t, ctx, "open "+url,
						chromedp.EmulateViewport(width, 900),
						chromedp.Navigate(url),
						untilWithin(`document.readyState === 'complete' && window.__fetching === 0 && document.body.innerText.includes(`+shows+`)`, time.Minute),
						// Two animation frames: what the data brought is laid out and painted.
						chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
							_, err := chromedp.Evaluate[bool](`new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))`, chromedp.EvalAwaitPromise)(ctx, t)
							return err
						}))
					if dark := value[bool](t, ctx, `matchMedia('(prefers-color-scheme: dark)').matches`); dark != (scheme == "dark") {
						t.Fatalf("the page prefers the dark scheme: %v, want %v", dark, scheme == "dark")
					}
					checkNoSidewaysScroll(t, ctx)
					checkLayoutShift(t, ctx)
					checkAxe(t, ctx)
				})
			}
		}
	}
}

// name names the page's subtests: its path without slashes ("/" is
// "index"), and who opens it if that is a member who is no admin.
func (p checkedPage) name() string {
	name := strings.ReplaceAll(strings.Trim(strings.ReplaceAll(p.path, "{$}", ""), "/"), "/", " ")
	if name == "" {
		name = "index"
	}
	if p.who == member {
		name += " as a member"
	}
	return name
}

// checkEveryPageListed fails unless every page of the page table has a
// line in checkedPages.
func checkEveryPageListed(t *testing.T) {
	t.Helper()
	for _, p := range routes.Pages() {
		if !slices.ContainsFunc(checkedPages, func(c checkedPage) bool { return c.path == p.Path }) {
			t.Errorf("the page %s (web/%s) has no line in checkedPages", p.Path, p.File)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// wildcard is a {name} of checkedPages.
var wildcard = regexp.MustCompile(`\{[a-z]+\}`)

// fillIn replaces each {name} in s with fill[name].
func fillIn(t *testing.T, s string, fill map[string]string) string {
	t.Helper()
	return wildcard.ReplaceAllStringFunc(s, func(w string) string {
		v, ok := fill[strings.Trim(w, "{}")]
		if !ok {
			t.Fatalf("%s: nothing to fill %s with", s, w)
		}
		return v
	})
}

// watchScript runs in every document before the page's own scripts. It
// keeps the page's cumulative layout shift as Web Vitals defines it: shifts
// not caused by recent input, grouped in session windows (less than 1 s
// apart, at most 5 s long), the largest window's sum; and what shifted. It
// counts the fetches in flight, so a check can wait for the page's data.
const watchScript = `(() => {
	const describe = (n) => !n || !n.tagName ? String(n && n.nodeName) :
		n.tagName.toLowerCase() + (n.id ? '#' + n.id : '') + [...n.classList].map((c) => '.' + c).join('');
	const cls = { value: 0, shifts: [] };
	let windowSum = 0, first = -Infinity, last = -Infinity;
	const take = (entries) => {
		for (const e of entries) {
			if (e.hadRecentInput) continue;
			if (e.startTime - last < 1000 && e.startTime - first < 5000) windowSum += e.value;
			else { windowSum = e.value; first = e.startTime; }
			last = e.startTime;
			cls.value = Math.max(cls.value, windowSum);
			cls.shifts.push({ value: e.value, at: Math.round(e.startTime), sources: (e.sources || []).map((s) => describe(s.node)) });
		}
	};
	const observer = new PerformanceObserver((list) => take(list.getEntries()));
	observer.observe({ type: 'layout-shift', buffered: true });
	window.__layoutShift = () => { take(observer.takeRecords()); return cls; };
	let fetching = 0;
	const fetch = window.fetch;
	window.fetch = function (...args) {
		fetching++;
		return fetch.apply(this, args).finally(() => { fetching--; });
	};
	Object.defineProperty(window, '__fetching', { get: () => fetching });
	window.__describe = describe;
})()`

// checkNoSidewaysScroll fails if the page is wider than the window, and
// names the elements that stick out.
func checkNoSidewaysScroll(t *testing.T, ctx context.Context) {
	t.Helper()
	got := value[struct {
		ScrollWidth, InnerWidth float64
		Out                     []string
	}](t, ctx, `(() => {
		const w = window.innerWidth;
		const out = [...document.body.querySelectorAll('*')]
			.filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 1; })
			.slice(0, 10)
			.map((e) => window.__describe(e) + ' (right edge at ' + Math.round(e.getBoundingClientRect().right) + ' px)');
		return { ScrollWidth: document.documentElement.scrollWidth, InnerWidth: w, Out: out };
	})()`)
	if got.ScrollWidth > got.InnerWidth {
		t.Errorf("the page is %v px wide in a %v px window: it scrolls sideways; sticking out: %s",
			got.ScrollWidth, got.InnerWidth, strings.Join(got.Out, ", "))
	}
}

// checkLayoutShift fails if the page's cumulative layout shift reached
// maxCLS, and lists the shifts.
func checkLayoutShift(t *testing.T, ctx context.Context) {
	t.Helper()
	cls := value[struct {
		Value  float64
		Shifts []struct {
			Value   float64
			At      float64
			Sources []string
		}
	}](t, ctx, `window.__layoutShift()`)
	if cls.Value < maxCLS {
		t.Logf("cumulative layout shift %.4f", cls.Value)
		return
	}
	var shifts []string
	for _, s := range cls.Shifts {
		shifts = append(shifts, fmt.Sprintf("%.4f at %v ms (%s)", s.Value, s.At, strings.Join(s.Sources, ", ")))
	}
	t.Errorf("cumulative layout shift %.4f, want under %v; the shifts: %s", cls.Value, maxCLS, strings.Join(shifts, "; "))
}

// axeViolation is a rule axe-core found broken, and where.
type axeViolation struct {
	ID, Impact, Help, HelpURL string
	Nodes                     []struct{ Target, HTML, Summary string }
}

// checkAxe runs axe-core in the page, with all its rules, and fails on
// any violation, naming the rule, its impact and the elements.
func checkAxe(t *testing.T, ctx context.Context) {
	t.Helper()
	if !value[bool](t, ctx, `typeof window.axe === 'object'`) {
		value[bool](t, ctx, axeSource+"\n;true")
	}
	violations := awaited[[]axeViolation](t, ctx, `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
		ID: v.id, Impact: v.impact || '', Help: v.help, HelpURL: v.helpUrl,
		Nodes: v.nodes.map((n) => ({ Target: n.target.join(' '), HTML: n.html, Summary: n.failureSummary || '' })),
	})))`)
	for _, v := range violations {
		var nodes strings.Builder
		for _, n := range v.Nodes {
			fmt.Fprintf(&nodes, "\n    %s: %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
		t.Errorf("axe %s (%s): %s (%s)%s", v.ID, v.Impact, v.Help, v.HelpURL, nodes.String())
	}
}

// uploadTo uploads a file in one request, as a member's script would,
// and returns the new recording's id.
func uploadTo(t *testing.T, st *stack.Stack, session *http.Cookie, fields map[string]string, name string, content []byte) string {
	t.Helper()
	form, ct := apptest.Multipart(t, fields, name, content)
	var rec struct{ ID string }
	call(t, st, session, http.MethodPost, "/api/upload", ct, form, http.StatusCreated, &rec)
	return rec.ID
}

// waitProcessed waits until the worker has made the recording's waveform
// and listening copy, so that its page opens as it will stay.
func waitProcessed(t *testing.T, st *stack.Stack, session *http.Cookie, id string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var rec struct {
			Copy struct{ Status string } `json:"listening_copy"`
		}
		call(t, st, session, http.MethodGet, "/api/recordings/"+id, "", nil, http.StatusOK, &rec)
		if rec.Copy.Status != "pending" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording %s still being processed after 2 minutes", id)
		}
		time.Sleep(200 * time.Millisecond) // polling the API: the worker says nothing when done
	}
}

// addMembers adds two members beside the admin: one with a long name,
// and one disabled; it returns a session cookie of the first's.
func addMembers(t *testing.T, dbURL string) *http.Cookie {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	token := auth.NewToken()
	if _, err := conn.Exec(t.Context(), `WITH sam AS (
			INSERT INTO users (id, email, display_name, role) VALUES
			(gen_random_uuid(), 'sam@band.example', 'Sam (drums, backing vocals, and the one who always brings the tapes home)', 'member')
			RETURNING id),
		former AS (
			INSERT INTO users (id, email, display_name, role, disabled_at) VALUES
			(gen_random_uuid(), 'former@band.example', 'Our first bass player', 'member', now()))
		INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
		SELECT gen_random_uuid(), $1, id, now(), now() + interval '1 day', now() FROM sam`, token.Hash()); err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: auth.CookieName, Value: token.String()}
}

// inviteToken creates an invite and returns the token of its link.
func inviteToken(t *testing.T, st *stack.Stack, session *http.Cookie) string {
	t.Helper()
	var inv struct{ URL string }
	call(t, st, session, http.MethodPost, "/api/invites", "application/json", []byte(`{}`), http.StatusCreated, &inv)
	_, token, ok := strings.Cut(inv.URL, "/join/")
	if !ok {
		t.Fatalf("the invite's url %q has no /join/", inv.URL)
	}
	return token
}

// linkFor asks for the admin's sign-in link and returns it, not used: the
// nth mail the fake caught.
func linkFor(t *testing.T, st *stack.Stack, fake *mailersendfake.Server, nth int) string {
	t.Helper()
	call(t, st, nil, http.MethodPost, "/auth/send-link", "application/json", []byte(`{"email":"admin@band.example"}`), http.StatusAccepted, nil)
	return mailedLink(t, fake, st.BaseURL, nth)
}

// call sends a request through Nginx with the session (if any) and the
// Origin the archive expects, fails unless the answer has status want, and
// decodes its JSON body into out (if not nil).
func call(t *testing.T, st *stack.Stack, session *http.Cookie, method, path, contentType string, body []byte, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, st.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Origin", st.BaseURL)
	if session != nil {
		req.AddCookie(session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, got, want)
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, got)
		}
	}
}

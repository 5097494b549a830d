package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5"
)

// TestLinksSurviveSignIn: a signed-out visitor who opens a recording's
// page at a moment (#t=0:03) signs in and lands on that page, playing from
// that moment, and can copy a link to the moment again; a session that
// ends while a member edits keeps the edit through the next sign-in.
func TestLinksSurviveSignIn(t *testing.T) {
	chromium(t)
	st, fake := startStack(t)
	base := st.BaseURL
	page := tab(t, browser(t))
	signIn(t, page, base, fake, 1)
	sent := postWhole(t, base, sessionCookie(t, page, base), noiseWAV(t, "Side A.wav", 600<<10)) // 7 s
	if sent.status != http.StatusCreated {
		t.Fatalf("upload: %s", sent)
	}
	id := firstRecording(t, page, base)

	// Another browser, signed out, opens the recording at 0:03.
	visitor := tab(t, browser(t))
	deep := "/recordings/" + id + "?from=mail#t=0:03"
	run(t, visitor, "open a deep link signed out",
		chromedp.Navigate(base+deep),
		chromedp.WaitVisible(css("#email")),
		until(`location.pathname === '/login' && new URLSearchParams(location.search).get('next') === `+jsString(deep)))
	run(t, visitor, "ask for a link", askForLink()...)
	run(t, visitor, "sign in from the mail", append(confirmLink(mailedLink(t, fake, base, 2)),
		chromedp.WaitVisible(css("#waveform")),
		until(`location.pathname + location.search + location.hash === `+jsString(deep)),
		// The link's moment: the player starts at 0:03.
		until(`(() => { const p = document.querySelector('#player'); return p.readyState >= 1 && p.currentTime >= 3 && p.currentTime < 4 })()`))...)
	run(t, visitor, "copy a link at the current time",
		chromedp.Click(css("#copy-link")),
		until(`/\/recordings\/[0-9a-f-]+#t=0:03$/.test(document.querySelector('#share-link').value) && !document.querySelector('#share-link').hidden`))
	run(t, visitor, "keys: L goes on, 4 scores, none while typing, ? lists them",
		until(`(document.activeElement.blur(), true)`),
		chromedp.KeyEvent("l"),
		until(`document.querySelector('#player').currentTime >= 6.5`), // 0:03 + 10 s, at the end of 7 s
		chromedp.KeyEvent("4"),
		until(myScoreIs(4)),
		chromedp.Focus(css("#share-link")),
		chromedp.KeyEvent("5"), // typed into a field: not a score
		until(`(document.activeElement.blur(), true)`),
		chromedp.KeyEvent("?"),
		until(`document.querySelector('#keys').open`),
		chromedp.KeyEvent(kb.Escape),
		until(`!document.querySelector('#keys').open`),
		chromedp.KeyEvent("3"),
		until(myScoreIs(3)),
		textIs("#scored", "1 of 1 have scored this"))

	// The session ends while the member edits: the edit is kept.
	run(t, visitor, "start an edit",
		chromedp.Click(css("#edit")),
		chromedp.WaitVisible(css("#edit-venue")),
		chromedp.SetValue(css("#edit-venue"), "Paradiso, Amsterdam"))
	endSessions(t, st.DatabaseURL)
	run(t, visitor, "save after the session ended",
		chromedp.Click(css("#save")),
		chromedp.WaitVisible(css("#email")),
		until(`location.pathname === '/login' && new URLSearchParams(location.search).get('expired') === '1'`))
	run(t, visitor, "ask for a link again", askForLink()...)
	run(t, visitor, "sign in again, and find the edit", append(confirmLink(mailedLink(t, fake, base, 3)),
		chromedp.WaitVisible(css("#edit-venue")),
		until(`location.pathname === '/recordings/`+id+`'`),
		until(`document.querySelector('#edit-venue').value === 'Paradiso, Amsterdam'`),
		textIs("#status", "unsaved changes were kept"),
		chromedp.Click(css("#save")),
		textIs("#venue", "Paradiso, Amsterdam"))...)

}

// TestOpenRedirectLandsHome: a sign-in page asked to send the member to
// another site (a link someone made up) lands on the archive's own first
// page instead.
func TestOpenRedirectLandsHome(t *testing.T) {
	chromium(t)
	st, fake := startStack(t)
	base := st.BaseURL
	page := tab(t, browser(t))
	run(t, page, "open a sign-in page whose next is another site",
		chromedp.Navigate(base+"/login?next="+url.QueryEscape("//evil.example/")),
		chromedp.WaitVisible(css("#email")))
	run(t, page, "ask for a link", askForLink()...)
	run(t, page, "sign in: the archive, not the other site", append(confirmLink(mailedLink(t, fake, base, 1)),
		chromedp.WaitVisible(css("#sort")),
		until(`location.href === `+jsString(base+"/")))...)
}

// firstRecording is the id of the archive's first recording, as the page's
// session sees the list.
func firstRecording(t *testing.T, page context.Context, base string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/recordings", nil)
	req.AddCookie(sessionCookie(t, page, base))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var list struct {
		Recordings []struct{ ID string } `json:"recordings"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Recordings) == 0 {
		t.Fatalf("the list: %v %s", err, body)
	}
	return list.Recordings[0].ID
}

// endSessions ends every session, as when a session expires.
func endSessions(t *testing.T, dbURL string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), `DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return strings.ReplaceAll(string(b), "'", `\u0027`)
}

// myScoreIs is true once the recording page's stars show my score n.
func myScoreIs(n int) string {
	return fmt.Sprintf(`document.querySelector('#my-score button.star[aria-pressed="true"]')?.dataset.score === '%d'`, n)
}

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"bandarchive/shared/apptest"
)

// audio is the player's element, in every member page's dock.
const audio = `document.querySelector('#player')`

// TestPlayerKeepsPlaying walks through the archive while a recording
// plays: the same audio element keeps playing, its position advancing;
// "Play all" moves on to the next recording at the end; the lock screen
// names what plays; Space toggles playback except in a text field; a
// reload comes back to the same recording, paused where it was; "Score as
// you listen" scores what plays with the 1–5 keys.
func TestPlayerKeepsPlaying(t *testing.T) {
	chromium(t)
	// The archive's name reaches the lock screen from the session
	// function's own binary, as deployed.
	st, fake := startStack(t, "APP_NAME=The Lanterns")
	base := st.BaseURL
	page := tab(t, browser(t))
	signIn(t, page, base, fake, 1)
	session := sessionCookie(t, page, base)
	ids := map[string]string{}
	for _, r := range []struct {
		title   string
		seconds int
	}{{"A first", 30}, {"B second", 4}, {"C third", 5}} {
		ids[r.title] = uploadTo(t, st, session, map[string]string{"title": r.title}, r.title+".wav", apptest.WAV(8000*r.seconds, 8000))
	}

	run(t, page, "play the list",
		chromedp.Navigate(base+"/?sort=title"),
		until(`document.querySelectorAll('#rows tr.recording').length === 3`),
		// A member who has scored nothing is welcomed, on the unfiltered list.
		chromedp.Navigate(base+"/"),
		textIs("#welcome", "3 recordings are waiting for your score"),
		chromedp.Navigate(base+"/?sort=title"),
		until(`document.querySelectorAll('#rows tr.recording').length === 3 && document.querySelector('#welcome').hidden`),
		chromedp.Click(css("#play-all")),
		untilWithin(playing(0.5), 30*time.Second),
		textIs(".dock-title", "A first"),
		textIs(".dock-sub", "1 of 3"),
		until(`navigator.mediaSession.metadata?.title === 'A first' && navigator.mediaSession.metadata.artist === 'The Lanterns' && navigator.mediaSession.metadata.artwork[0]?.src.startsWith('data:image/png')`),
		until(`navigator.mediaSession.playbackState === 'playing'`),
		// A mark on this document: a full page load would lose it.
		until(`(window.sameDocument = true)`))

	at := value[float64](t, page, audio+`.currentTime`)
	run(t, page, "open another recording's page: the player plays on",
		chromedp.Click(css(fmt.Sprintf(`tr[data-id=%q] a.title`, ids["B second"]))),
		until(`location.pathname === '/recordings/`+ids["B second"]+`'`),
		textIs("#title", "B second"),
		untilWithin(playing(at+1), 30*time.Second),
		until(`window.sameDocument === true`),
		textIs(".dock-title", "A first"))

	at = value[float64](t, page, audio+`.currentTime`)
	run(t, page, "back to the list by the nav: it plays on",
		chromedp.Click(css(`#nav a[href="/"]`)),
		until(`location.pathname === '/' && document.querySelectorAll('#rows tr.recording').length === 3`),
		untilWithin(playing(at+1), 30*time.Second),
		until(`window.sameDocument === true`),
		// The row playing is marked.
		until(`document.querySelector('tr.playing')?.dataset.id === '`+ids["A first"]+`'`))

	run(t, page, "a link within the page (skip to content) is no new page",
		until(`(document.getElementById('main').dataset.mark = 'kept', true)`),
		until(`(document.querySelector('.skip-link').click(), true)`),
		until(`location.hash === '#main'`),
		until(`document.getElementById('main').dataset.mark === 'kept' && document.querySelectorAll('#rows tr.recording').length === 3`),
		// Back from #main is the same page, not a new one.
		chromedp.NavigateBack(),
		until(`location.pathname === '/' && location.hash === ''`),
		until(`document.getElementById('main').dataset.mark === 'kept'`))

	at = value[float64](t, page, audio+`.currentTime`)
	run(t, page, "the back button: the recording's page again, still playing",
		chromedp.NavigateBack(),
		until(`location.pathname === '/recordings/`+ids["B second"]+`'`),
		textIs("#title", "B second"),
		untilWithin(playing(at+1), 30*time.Second),
		until(`window.sameDocument === true`))

	run(t, page, "the waveform is the one seek bar: the time under the pointer, arrows when focused",
		until(`document.querySelectorAll('audio[controls], input[type=range]').length === 0`),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			// Half-way along the page's waveform of a 4-second recording.
			box, err := chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector('#waveform').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2] })()`)(ctx, tg)
			if err != nil {
				return err
			}
			_, err = chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, box[0], box[1])(ctx, tg)
			return err
		}),
		until(`!document.querySelector('#waveform').parentElement.querySelector('.scrub-tip').hidden`),
		textIs(".player .scrub-tip", "0:02"),
		chromedp.Focus(css(".dock-wave")),
		until(`(`+audio+`.pause(), `+audio+`.currentTime = 1, true)`),
		chromedp.KeyEvent(kb.ArrowRight),
		until(audio+`.currentTime >= 5.9`),
		until(`(`+audio+`.play(), true)`))

	run(t, page, "Space pauses and plays; typed in a field it is a space",
		until(`(document.activeElement.blur(), true)`),
		chromedp.KeyEvent(" "),
		until(audio+`.paused`),
		chromedp.KeyEvent(" "),
		until(`!`+audio+`.paused`))
	run(t, page, "open the edit form",
		until(`(document.querySelector('#edit').click(), true)`),
		chromedp.WaitVisible(css("#edit-venue")))
	run(t, page, "type a space",
		chromedp.Focus(css("#edit-venue")),
		chromedp.KeyEvent(" "),
		until(`document.querySelector('#edit-venue').value === ' '`),
		until(`!`+audio+`.paused`),
		chromedp.KeyEvent(kb.Escape))

	run(t, page, "at the end of a recording, the list moves on",
		until(`(`+audio+`.currentTime = `+audio+`.duration - 0.5, true)`),
		untilWithin(`document.querySelector('.dock-title').textContent === 'B second'`, 30*time.Second),
		textIs(".dock-sub", "2 of 3"),
		until(`navigator.mediaSession.metadata?.title === 'B second'`),
		until(audio+`.src.includes('`+ids["B second"]+`')`),
		untilWithin(playing(0.2), 30*time.Second))

	run(t, page, "a reload keeps the place, paused",
		until(`(`+audio+`.currentTime = 1.5, true)`),
		until(audio+`.currentTime >= 1.5`),
		chromedp.Reload(),
		textIs(".dock-title", "B second"),
		until(`window.sameDocument === undefined`), // it was a real reload
		untilWithin(audio+`.readyState >= 1 && `+audio+`.paused && `+audio+`.currentTime >= 1.4`, 30*time.Second),
		textIs(".dock-sub", "2 of 3"))

	run(t, page, "score as you listen",
		chromedp.Click(css(`#nav a[href="/"]`)),
		until(`document.querySelectorAll('#rows tr.recording').length === 3`),
		chromedp.Click(css("#score-listen")),
		until(`!document.querySelector('.dock-score').hidden`),
		untilWithin(playing(0.2), 30*time.Second),
		until(`(document.activeElement.blur(), true)`),
		chromedp.KeyEvent("4"),
		untilWithin(`(document.querySelector('tr.playing .my-score')?.textContent || '').includes('4')`, 30*time.Second),
		until(`document.querySelector('.dock-score button.star[aria-pressed="true"]')?.dataset.score === '4'`))
	newShots(t).take(t, page, "player")

	run(t, page, "a recording played from its page ends the list",
		// Still on the list, where the stars were given.
		until(`(document.querySelector('tr[data-id="`+ids["A first"]+`"] a.title')?.click(), location.pathname !== '/')`),
		textIs("#title", "A first"),
		until(`(document.querySelector('#play').click(), true)`),
		textIs(".dock-title", "A first"),
		untilWithin(playing(0.2), 30*time.Second),
		until(`!document.querySelector('.dock-sub').textContent.includes(' of ') && document.querySelector('.dock-btn[aria-label="Next recording"]').hidden`))
}

// playing is true once the player plays past from seconds.
func playing(from float64) string {
	return fmt.Sprintf(`!%[1]s.paused && !%[1]s.error && %[1]s.currentTime > %[2]f`, audio, from)
}

// Package e2e walks a member's journey in real headless Chromium through
// the production topology: real Nginx in front of every function as its
// own process, real PostgreSQL, and the fake Mailersend catching the
// links. Screenshots of the main pages, at phone and desktop widths, land
// in screenshots/ at the repository root for a person to look at.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"bandarchive/local/stack"
	"bandarchive/shared/apptest"
	"bandarchive/shared/db/dbtest"
	"bandarchive/shared/mail/mailersendfake"
)

const repoRoot = "../.."

// chromium finds Debian's Chromium; without it the test fails in CI and
// is skipped elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: the end-to-end test needs Debian's chromium package")
	}
	t.Skip("chromium is not installed")
	return ""
}

// browser starts one headless Chromium for the test and returns its
// context, from which tabs are opened.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts Chromium
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// tab opens a tab in a browser context of its own (its own cookies).
func tab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// run does the steps of one part of the journey, failing the test with
// the step's name.
func run(t *testing.T, ctx context.Context, step string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		// A picture of the failure helps more than the selector alone.
		if png, serr := chromedp.Run(context.WithoutCancel(ctx), chromedp.CaptureScreenshot()); serr == nil {
			shot := filepath.Join(newShots(t).dir, "failed-"+strings.ReplaceAll(step, " ", "-")+".png")
			os.WriteFile(shot, png, 0o644)
			t.Logf("screenshot of the failure: %s", shot)
		}
		// What the page said, and where it was.
		if st, err := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](
			`location.href + ' status: ' + (document.querySelector('#status')?.textContent || '(none)')`)); err == nil {
			t.Logf("the page: %s", st)
		}
		t.Fatalf("%s: %v", step, err)
	}
}

// value evaluates a JavaScript expression.
func value[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// until waits for a JavaScript expression to become true.
func until(expr string) chromedp.Action[chromedp.Void] {
	return untilWithin(expr, 20*time.Second)
}

// untilWithin waits up to d for a JavaScript expression to become true.
func untilWithin(expr string, d time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(d))(ctx, t)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", expr, err)
		}
		return nil
	})
}

// textIs waits until the first element sel matches contains want.
func textIs(sel, want string) chromedp.Action[chromedp.Void] {
	return until(fmt.Sprintf(`(document.querySelector(%q)?.textContent || '').includes(%q)`, sel, want))
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// startStack starts the stack on a database of its own, with the fake
// Mailersend and admin@band.example as the admin; env is added (a later
// value wins).
func startStack(t *testing.T, env ...string) (*stack.Stack, *mailersendfake.Server) {
	t.Helper()
	fake := mailersendfake.New(t)
	st, err := stack.Start(context.Background(), stack.Options{
		Root: repoRoot,
		Dir:  t.TempDir(),
		Env: append([]string{
			"DATABASE_URL=" + dbtest.NewURL(t),
			"UPLOADS_DIR=" + t.TempDir(),
			"ADMIN_EMAIL=admin@band.example",
			"MAILERSEND_API_URL=" + fake.URL,
			"MAILERSEND_API_TOKEN=" + fake.Token,
			"MAIL_FROM=archive@band.example",
			"APP_NAME=bandarchive",
			"WORKER_FFMPEG_NICE=0", // at 19 ffmpeg waits for a busy machine's other work
		}, env...),
		Stderr: testWriter{t},
	})
	if err != nil {
		t.Fatalf("start the stack: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Stop(); err != nil {
			t.Errorf("stop the stack: %v", err)
		}
	})
	return st, fake
}

func TestMemberJourney(t *testing.T) {
	alloc := browser(t)
	st, fake := startStack(t)
	base := st.BaseURL
	shots := newShots(t)

	// Audio responses as the browser saw them.
	var mu sync.Mutex
	var audioStatuses []int64
	admin := tab(t, alloc)
	responses := chromedp.Events(admin, network.ResponseReceived)
	go func() {
		for ev, err := range responses {
			if err != nil {
				return
			}
			if strings.Contains(ev.Response.URL, "/audio") || strings.Contains(ev.Response.URL, "/listen") {
				mu.Lock()
				audioStatuses = append(audioStatuses, ev.Response.Status)
				mu.Unlock()
			}
		}
	}()

	// A signed-out visitor lands on the sign-in page.
	run(t, admin, "open the archive signed out", chromedp.Navigate(base+"/"), chromedp.WaitVisible(css("#email")))
	shots.take(t, admin, "login")
	run(t, admin, "ask for a link",
		chromedp.SendKeys(css("#email"), "admin@band.example"),
		chromedp.Click(css("#send-link")),
		textIs("#status", "on its way"))
	link := mailersendfake.Link(t, fake.WaitSent(t, 1, time.Minute)[0], base+"/auth/verify/")
	run(t, admin, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(css(`button[type=submit]`)))
	shots.take(t, admin, "verify")
	run(t, admin, "sign in",
		chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css("#sort")))

	// Upload a real recording and watch the bar fill.
	wav := filepath.Join(t.TempDir(), "Rehearsal 1998.wav")
	if err := os.WriteFile(wav, apptest.WAV(8000*6, 8000), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, admin, "upload",
		chromedp.Navigate(base+"/upload"),
		chromedp.WaitVisible(css("#dropzone")),
		// The page listens for chosen files once it knows the member and
		// the limit: the limit's note shows it is ready.
		textIs("#limit", "per file"),
		chromedp.SetUploadFiles(css("#files"), []string{wav}),
		textIs(".upload-item .upload-status", "Saved"))
	progress := value[float64](t, admin, `(() => { const p = document.querySelector('.upload-item progress'); return p.value / p.max * 100 })()`)
	if progress != 100 {
		t.Fatalf("progress bar at %v%%, want 100%%", progress)
	}
	run(t, admin, "see the overall progress", textIs("#overall", "1 of 1 file"))
	shots.take(t, admin, "upload")
	// It went the resumable way (tus), and the archive has the very bytes.
	id := recordingIDOf(t, admin, ".upload-item a.upload-link")
	checkStored(t, st, id, wav)
	checkSentWithTus(t, st)

	// Find it in the list, open it.
	run(t, admin, "find it in the archive",
		chromedp.Navigate(base+"/"),
		textIs("tr.recording a.title, .recording a.title", "Rehearsal 1998"),
		textIs(".recording .scored", "0 of 1 have scored this"),
		textIs("#count", "1 recording, 1 not yet scored by you"))
	shots.take(t, admin, "archive")
	run(t, admin, "open it",
		chromedp.Click(css(".recording a.title")),
		chromedp.WaitVisible(css("#waveform")))

	// Play and seek: the position moves and the server answered a range.
	run(t, admin, "play and seek",
		until(`(() => { const p = document.querySelector('#player'); p.muted = true; p.play(); p.currentTime = 4; return true })()`),
		until(`document.querySelector('#player').currentTime >= 4 && document.querySelector('#player').readyState >= 2`))
	position := value[float64](t, admin, `document.querySelector('#player').currentTime`)
	if position < 4 {
		t.Fatalf("after seeking, currentTime = %v, want >= 4", position)
	}
	mu.Lock()
	saw206 := false
	for _, s := range audioStatuses {
		saw206 = saw206 || s == 206
	}
	got := fmt.Sprint(audioStatuses)
	mu.Unlock()
	if !saw206 {
		t.Fatalf("audio responses %s: none was a 206", got)
	}

	// Score it: the count changes here and in the ranking.
	run(t, admin, "score it",
		chromedp.Click(css(`button.star[data-score="4"]`)),
		textIs("#scored", "1 of 1 have scored this"),
		textIs("#status", "your score is 4"))
	run(t, admin, "edit its venue",
		chromedp.Click(css("#edit")),
		chromedp.WaitVisible(css("#edit-venue")),
		chromedp.SetValue(css("#edit-venue"), "Roxy, Köln"),
		chromedp.Click(css("#save")),
		textIs("#venue", "Roxy, Köln"))
	shots.take(t, admin, "recording")
	run(t, admin, "see the ranking",
		chromedp.Navigate(base+"/"),
		textIs(".recording .scored", "1 of 1 have scored this"),
		textIs(".recording .my-score", "4"),
		textIs("#count", "1 recording, 0 not yet scored by you"))
	run(t, admin, "sort by a column heading, both ways",
		chromedp.Click(css(`button.sort[data-sort="title"]`)),
		until(`document.querySelector('th[data-sort="title"]').getAttribute('aria-sort') === 'ascending' && new URLSearchParams(location.search).get('sort') === 'title'`),
		chromedp.Click(css(`button.sort[data-sort="title"]`)),
		until(`document.querySelector('th[data-sort="title"]').getAttribute('aria-sort') === 'descending' && new URLSearchParams(location.search).get('sort') === '-title'`),
		textIs(".recording a.title", "Rehearsal 1998"))

	// An admin invites; a second browser joins with the invite.
	run(t, admin, "create an invite",
		chromedp.Navigate(base+"/admin/invites"),
		chromedp.WaitVisible(css("#create-invite")),
		chromedp.Click(css("#create-invite")),
		until(`(() => { const e = document.querySelector('#invite-url'); return !!e && (e.value || e.textContent).includes('/join/') })()`))
	inviteURL := value[string](t, admin, `(() => { const e = document.querySelector('#invite-url'); return e.value || e.textContent })()`)
	shots.take(t, admin, "invites")
	guest := tab(t, alloc)
	run(t, guest, "open the invite",
		chromedp.Navigate(strings.TrimSpace(inviteURL)),
		chromedp.WaitVisible(css("#join-email")),
		chromedp.SendKeys(css("#join-email"), "drummer@band.example"),
		chromedp.SendKeys(css("#join-name"), "The Drummer"),
		chromedp.Click(css("#join-submit")),
		textIs("#sent-message", "on its way"))
	shots.take(t, guest, "join")
	run(t, guest, "join", append(confirmLink(mailedLink(t, fake, base, 2)),
		chromedp.WaitVisible(css("#sort")),
		textIs("header", "The Drummer"),
		textIs(".recording .scored", "1 of 2 have scored this"))...)

	run(t, admin, "sign out",
		chromedp.Click(css("#logout")),
		chromedp.WaitVisible(css("#email")))
	where, err := chromedp.Run(admin, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(where, "/login") {
		t.Fatalf("after signing out at %s, want /login", where)
	}
}

// shots writes screenshots of a page at phone and desktop widths.
type shots struct{ dir string }

func newShots(t *testing.T) shots {
	dir, _ := filepath.Abs(filepath.Join(repoRoot, "screenshots"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return shots{dir}
}

// take shoots the top of the page, or, given a selector, the page
// scrolled to the first element it matches.
func (s shots) take(t *testing.T, ctx context.Context, name string, scrollTo ...string) {
	t.Helper()
	scroll := `window.scrollTo(0, 0), true`
	if len(scrollTo) > 0 {
		scroll = fmt.Sprintf(`document.querySelector(%q).scrollIntoView({ block: 'start' }), true`, scrollTo[0])
	}
	for _, size := range []struct {
		label         string
		width, height int64
		mobile        bool
	}{{"phone", 390, 844, true}, {"desktop", 1280, 800, false}} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.width, size.height, opts...)); err != nil {
			t.Fatalf("resize for %s: %v", name, err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](scroll)); err != nil {
			t.Fatalf("scroll %s: %v", name, err)
		}
		// Two animation frames: the new layout has been painted.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatalf("wait for %s to paint: %v", name, err)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, name+"-"+size.label+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

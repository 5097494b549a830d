package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"bandarchive/local/stack"
	"bandarchive/shared/apptest"
	"bandarchive/shared/mail/mailersendfake"
)

const mib = 1 << 20

// TestUploadSurvivesADroppedLine uploads through a line that drops in the
// middle of a chunk: the page says so, retries by itself, and once the
// line is back the upload resumes from what the archive acknowledged and
// ends with the very bytes of the file. Then a second file is paused while
// the line is down, the page is reloaded, and choosing the file again
// offers to resume it, which finishes it without sending it from the start.
func TestUploadSurvivesADroppedLine(t *testing.T) {
	chromium(t)
	line := newFlakyLine(t)
	// Chunks of at most 1 MiB: a few MB take several PATCHes, and the page
	// learns the server's maximum from its 413s.
	st, fake := startStack(t, "BASE_URL="+line.URL, "MAX_CHUNK_BYTES=1048576")
	line.connect(t, st.URL)
	base := line.URL
	// Started after the stack, Chromium is closed before it stops (cleanups
	// run last first): Nginx's graceful stop waits for open connections.
	page := tab(t, browser(t))
	signIn(t, page, base, fake, 1)

	// 1. The line drops 300 KB into the chunk at 2 MiB, and stays down.
	first := noiseWAV(t, "Gig 1999.wav", 5*mib)
	line.dropAt(2*mib, 300<<10)
	run(t, page, "upload, and lose the line",
		chromedp.Navigate(base+"/upload"),
		chromedp.WaitVisible(css("#dropzone")),
		textIs("#limit", "Up to 500 MB per file"),
		chromedp.SetUploadFiles(css("#files"), []string{first}),
		line.dropped(time.Minute),
		untilWithin(`(document.querySelector('.upload-item')?.textContent || '').includes('Connection lost, retrying')`, time.Minute),
		// The page keeps trying, waiting longer each time (1 s, 2 s, …).
		line.droppedHeads(2, time.Minute),
		untilWithin(`(document.querySelector('.upload-item')?.textContent || '').includes('Connection lost, retrying in')`, time.Minute))
	newShots(t).take(t, page, "upload-retrying", "#dropzone")
	cutAt := line.wasDown(t)
	line.up()
	run(t, page, "resume by itself once the line is back",
		untilWithin(`(document.querySelector('.upload-item .upload-status')?.textContent || '').includes('Saved')`, time.Minute),
		textIs("#overall", "1 of 1 file"))
	if p := value[float64](t, page, `(() => { const p = document.querySelector('.upload-item progress'); return p.value / p.max * 100 })()`); p != 100 {
		t.Fatalf("progress bar at %v%%, want 100%%", p)
	}
	checkStored(t, st, recordingIDOf(t, page, ".upload-item a.upload-link"), first)
	checkSentWithTus(t, st)
	resumedAt := line.checkResumed(t, cutAt, 1)
	t.Logf("the line dropped in the PATCH at byte %d; the archive had kept up to byte %d, and the page went on from there", cutAt, resumedAt)

	// 2. Down again, the member pauses, reloads, and chooses the file again.
	second := noiseWAV(t, "Take 2.wav", 3*mib)
	line.dropAt(mib, 200<<10)
	run(t, page, "upload another, and lose the line",
		chromedp.SetUploadFiles(css("#files"), []string{second}),
		line.dropped(time.Minute),
		untilWithin(`(document.querySelector('.upload-item:nth-child(2)')?.textContent || '').includes('Connection lost, retrying')`, time.Minute),
		chromedp.Click(css(`.upload-item:nth-child(2) button[aria-label="Pause Take 2.wav"]`)),
		textIs(".upload-item:nth-child(2) .upload-status", "Paused"))
	cutAt = line.wasDown(t)
	line.up()
	run(t, page, "reload, and see it was not finished",
		chromedp.Reload(),
		chromedp.WaitVisible(css("#dropzone")),
		chromedp.WaitVisible(css("#unfinished-section")),
		textIs("#unfinished", "Take 2.wav"))
	run(t, page, "choose it again, and resume it",
		chromedp.SetUploadFiles(css("#files"), []string{second}),
		untilWithin(`(document.querySelector('.upload-item .upload-status')?.textContent || '').includes('already uploaded. Resume?')`, time.Minute),
		until(`document.activeElement?.getAttribute('aria-label') === 'Resume Take 2.wav'`),
		until(`document.querySelector('#unfinished-section').hidden`))
	newShots(t).take(t, page, "upload-resume", "#dropzone")
	run(t, page, "finish it",
		chromedp.Click(css(`.upload-item button[aria-label="Resume Take 2.wav"]`)),
		untilWithin(`(document.querySelector('.upload-item .upload-status')?.textContent || '').includes('Saved')`, time.Minute))
	checkStored(t, st, recordingIDOf(t, page, ".upload-item a.upload-link"), second)
	resumedAt = line.checkResumed(t, cutAt, 2)
	t.Logf("after the reload the page resumed at byte %d of %d", resumedAt, 3*mib)
	l := line.log()
	t.Logf("the upload requests the line saw:\n%s", l)
	if n := value[float64](t, page, `Object.keys(JSON.parse(localStorage.getItem('bandarchive.tus-uploads') || '{}')).length`); n != 0 {
		t.Errorf("%v uploads still remembered in localStorage after both finished", n)
	}
}

// signIn signs in as the admin with the nth mail the fake caught.
func signIn(t *testing.T, ctx context.Context, base string, fake *mailersendfake.Server, nth int) {
	t.Helper()
	run(t, ctx, "ask for a link", append([]chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/login"),
		chromedp.WaitVisible(css("#email"))}, askForLink()...)...)
	run(t, ctx, "sign in", append(confirmLink(mailedLink(t, fake, base, nth)), chromedp.WaitVisible(css("#sort")))...)
}

// askForLink asks for the admin's sign-in link on the sign-in page.
func askForLink() []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(css("#email"), "admin@band.example"),
		chromedp.Click(css("#send-link")),
		textIs("#status", "on its way"),
	}
}

// mailedLink is the sign-in link of the nth mail the fake caught.
func mailedLink(t *testing.T, fake *mailersendfake.Server, base string, nth int) string {
	t.Helper()
	return mailersendfake.Link(t, fake.WaitSent(t, nth, time.Minute)[nth-1], base+"/auth/verify/")
}

// confirmLink opens a mailed link and presses its Sign in button.
func confirmLink(link string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(link),
		chromedp.WaitVisible(css(`button[type=submit]`)),
		chromedp.Click(css(`button[type=submit]`)),
	}
}

// noiseWAV writes a WAV file of about size bytes of random samples (each
// file different, and a byte out of place shows).
func noiseWAV(t *testing.T, name string, size int) string {
	t.Helper()
	wav := apptest.WAV(size/2, 44100)
	rand.Read(wav[44:])
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, wav, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// recordingIDOf reads the recording's id from a link to its page.
func recordingIDOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	href := value[string](t, ctx, fmt.Sprintf(`document.querySelector(%q)?.getAttribute('href') || ''`, sel))
	id, ok := strings.CutPrefix(href, "/recordings/")
	if !ok || id == "" {
		t.Fatalf("%s links to %q, not to a recording", sel, href)
	}
	return id
}

// checkStored fails unless the archive stored exactly the file at path as
// the recording's original.
func checkStored(t *testing.T, st *stack.Stack, id, path string) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(st.UploadsDir, id, "original"+filepath.Ext(path)))
	if err != nil {
		t.Fatalf("the stored original: %v", err)
	}
	if !bytes.Equal(got, want) {
		at := 0
		for at < min(len(got), len(want)) && got[at] == want[at] {
			at++
		}
		t.Fatalf("the stored original (%d bytes) differs from %s (%d bytes) from byte %d", len(got), filepath.Base(path), len(want), at)
	}
}

// logLine is what the checks read of a line of Nginx's access log or of a
// function's log.
type logLine struct {
	Msg    string          `json:"msg"`
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Status json.RawMessage `json:"status"`
}

func readLog(t *testing.T, path string) []logLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []logLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			lines = append(lines, l)
		}
	}
	return lines
}

var uploadPath = regexp.MustCompile(`^/api/uploads/[0-9a-f-]{36}$`)

// checkSentWithTus fails unless the upload page's file went the resumable
// way: Nginx and the upload function saw POST /api/uploads created, and
// PATCHes with the bytes accepted; and nothing used the one-request
// POST /api/upload. The logs are written as the answers leave: a few
// seconds are allowed.
func checkSentWithTus(t *testing.T, st *stack.Stack) {
	t.Helper()
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		last = nil
		for _, name := range []string{"nginx-access", "upload"} {
			count := map[string]int{}
			for _, l := range readLog(t, st.LogFile(name)) {
				if name == "upload" && l.Msg != "request" {
					continue
				}
				status := strings.Trim(string(l.Status), `"`)
				switch {
				case l.Method == "POST" && l.Path == "/api/uploads" && status == "201":
					count["created"]++
				case l.Method == "PATCH" && uploadPath.MatchString(l.Path) && status == "204":
					count["patched"]++
				case l.Method == "POST" && l.Path == "/api/upload":
					count["one request"]++
				}
			}
			if count["created"] == 0 || count["patched"] == 0 || count["one request"] > 0 {
				last = errors.Join(last, fmt.Errorf("%s: %d POST /api/uploads created, %d PATCH accepted, %d POST /api/upload; want >0, >0, 0",
					st.LogFile(name), count["created"], count["patched"], count["one request"]))
			}
		}
		if last == nil {
			return
		}
	}
	t.Fatal(last)
}

// ---------- the flaky line ----------

// flakyLine stands between Chromium and Nginx like a member's home line:
// it passes every request, until it is told to drop one. Only the upload
// requests (/api/uploads…) are ever dropped, so pages still load; a
// dropped request's connection is reset, as when a line goes down.
type flakyLine struct {
	URL    string
	target *url.URL
	server *http.Server
	proxy  *httputil.ReverseProxy
	// Transports of its own, whose connections to Nginx it closes: Nginx's
	// graceful stop waits for a connection that never sent a request.
	passer, cutter *http.Transport

	start time.Time

	mu   sync.Mutex
	trip *trip // armed: the PATCH that drops the line
	down bool  // every upload request is dropped
	seen []seenRequest
}

// trip drops the line in the first PATCH at an Upload-Offset of at least
// from that the archive would accept (at most 1 MiB), after pass bytes of
// its body went through.
type trip struct{ from, pass int64 }

// seenRequest is an upload request as the line saw it.
type seenRequest struct {
	At             time.Duration // since the line was made
	Method, Path   string
	Offset         int64 // Upload-Offset sent, -1 if none
	Size           int64 // Content-Length
	Status         int   // 0: dropped
	AnsweredOffset int64 // Upload-Offset answered, -1 if none
}

func (r seenRequest) String() string {
	return fmt.Sprintf("%6.2fs %s offset %d (%d bytes) → %d offset %d", r.At.Seconds(), r.Method, r.Offset, r.Size, r.Status, r.AnsweredOffset)
}

func newFlakyLine(t *testing.T) *flakyLine {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &flakyLine{
		URL:    "http://" + ln.Addr().String(),
		passer: &http.Transport{},
		cutter: &http.Transport{DisableKeepAlives: true},
		start:  time.Now(),
	}
	l.server = &http.Server{Handler: l, ErrorLog: log.New(io.Discard, "", 0)}
	go l.server.Serve(ln)
	t.Cleanup(l.close)
	return l
}

// connect sends what the line passes to Nginx at target. Called after the
// stack started, its cleanup runs before the stack stops.
func (l *flakyLine) connect(t *testing.T, target string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	l.target = u
	l.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host // as a proxy in front does
		},
		Transport: l.passer,
		ErrorLog:  log.New(io.Discard, "", 0), // requests the page stops on purpose
	}
	t.Cleanup(l.close)
}

// close hangs up every connection, Chromium's and Nginx's.
func (l *flakyLine) close() {
	l.server.Close()
	l.passer.CloseIdleConnections()
	l.cutter.CloseIdleConnections()
}

// dropAt arms the line: see trip.
func (l *flakyLine) dropAt(from, pass int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.trip = &trip{from, pass}
}

// up brings the line back.
func (l *flakyLine) up() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = false
}

// dropped waits up to d for the armed drop to happen (the page may show
// a lost connection before, for a refused chunk whose answer did not
// arrive).
func (l *flakyLine) dropped(d time.Duration) chromedp.Action[chromedp.Void] {
	return l.until("the line to drop", d, func() bool { return l.trip == nil && l.down })
}

// droppedHeads waits up to d until the line, down, has dropped n HEADs:
// the page went on retrying, asking where the upload stood.
func (l *flakyLine) droppedHeads(n int, d time.Duration) chromedp.Action[chromedp.Void] {
	return l.until(fmt.Sprintf("%d HEADs dropped", n), d, func() bool {
		heads := 0
		for _, r := range l.seen {
			if r.Method == http.MethodHead && r.Status == 0 {
				heads++
			}
		}
		return heads >= n
	})
}

// until waits up to d for done, called with l.mu held, to be true.
func (l *flakyLine) until(what string, d time.Duration, done func() bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		deadline := time.Now().Add(d)
		for {
			l.mu.Lock()
			ok, seen := done(), l.report()
			l.mu.Unlock()
			if ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("waited %s for %s; the line saw:\n%s", d, what, seen)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// wasDown checks that the armed drop happened and returns the offset of
// the PATCH it dropped.
func (l *flakyLine) wasDown(t *testing.T) int64 {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.trip != nil || !l.down {
		t.Fatalf("the line did not drop; it saw:\n%s", l.report())
	}
	for i := len(l.seen) - 1; i >= 0; i-- {
		if r := l.seen[i]; r.Method == http.MethodPatch && r.Status == 0 {
			return r.Offset
		}
	}
	t.Fatalf("no PATCH was dropped; the line saw:\n%s", l.report())
	return 0
}

// checkResumed checks what came after the drop in the PATCH at cutAt:
// the page asked where the upload stood (HEAD), went on with a PATCH at
// exactly the offset the archive answered, and did not start the file
// again (creates is how many POST /api/uploads the line saw in all). It
// returns that offset.
func (l *flakyLine) checkResumed(t *testing.T, cutAt int64, creates int) int64 {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.seen {
		if r.Method == http.MethodPost && r.Status == http.StatusCreated {
			n++
		}
	}
	if n != creates {
		t.Errorf("the line saw %d uploads created, want %d:\n%s", n, creates, l.report())
	}
	after := -1
	for i, r := range l.seen {
		if r.Method == http.MethodPatch && r.Status == 0 && r.Offset == cutAt {
			after = i
		}
	}
	head := int64(-1)
	for _, r := range l.seen[after+1:] {
		switch {
		case r.Method == http.MethodHead && r.Status == http.StatusOK && head < 0:
			head = r.AnsweredOffset
			if head < cutAt {
				t.Fatalf("after the drop the archive is at byte %d, before the chunk at %d it had acknowledged:\n%s", head, cutAt, l.report())
			}
		case r.Method == http.MethodPatch && r.Status == http.StatusNoContent && head >= 0:
			if r.Offset != head {
				t.Fatalf("after HEAD answered offset %d the page sent a PATCH at %d:\n%s", head, r.Offset, l.report())
			}
			return head
		case r.Method == http.MethodPatch && r.Status != 0 && r.Status != http.StatusRequestEntityTooLarge && head < 0:
			t.Fatalf("after the drop the page sent a PATCH without asking where the upload stood:\n%s", l.report())
		}
	}
	t.Fatalf("after the drop at byte %d there was no HEAD then PATCH from the answered offset:\n%s", cutAt, l.report())
	return 0
}

func (l *flakyLine) log() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.report()
}

func (l *flakyLine) report() string {
	var b strings.Builder
	for _, r := range l.seen {
		fmt.Fprintf(&b, "  %s\n", r)
	}
	return b.String()
}

func header64(h http.Header, name string) int64 {
	n, err := strconv.ParseInt(h.Get(name), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func (l *flakyLine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/uploads") {
		l.proxy.ServeHTTP(w, r)
		return
	}
	seen := seenRequest{At: time.Since(l.start), Method: r.Method, Path: r.URL.Path, Offset: header64(r.Header, "Upload-Offset"), Size: r.ContentLength, AnsweredOffset: -1}
	l.mu.Lock()
	drop, pass := l.down, int64(0)
	if tr := l.trip; !drop && tr != nil && r.Method == http.MethodPatch && seen.Offset >= tr.from && r.ContentLength > tr.pass && r.ContentLength <= mib {
		drop, pass = true, tr.pass
		l.trip, l.down = nil, true
	}
	l.mu.Unlock()
	if drop {
		if pass > 0 {
			l.passPart(r, pass)
		}
		l.record(seen)
		hangUp(w)
		return
	}
	cw := &captured{ResponseWriter: w}
	l.proxy.ServeHTTP(cw, r)
	seen.Status = cw.status
	if seen.Status == 0 {
		seen.Status = http.StatusOK
	}
	seen.AnsweredOffset = header64(cw.Header(), "Upload-Offset")
	l.record(seen)
}

func (l *flakyLine) record(r seenRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, r)
}

// passPart sends the request on to Nginx with the first n bytes of its
// body, then hangs up: the archive gets a chunk cut short.
func (l *flakyLine) passPart(r *http.Request, n int64) {
	out, err := http.NewRequest(r.Method, l.target.String()+r.URL.RequestURI(), io.MultiReader(io.LimitReader(r.Body, n), failing{}))
	if err != nil {
		return
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host
	out.ContentLength = r.ContentLength
	if resp, err := l.cutter.RoundTrip(out); err == nil {
		resp.Body.Close()
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("the line dropped") }

// hangUp resets the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // a reset, not a polite close
	}
	conn.Close()
}

// captured notes the status a response was sent with.
type captured struct {
	http.ResponseWriter
	status int
}

func (c *captured) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captured) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.ResponseWriter.Write(b)
}

func (c *captured) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// TestUploadPageAnswers walks the upload page's other answers, now that
// files go the resumable way: a file over the limit is refused before a
// byte is sent; a detail the archive refuses marks its field, and "Try
// again" sends the corrected one; a file the archive already has links to
// its recording; notes too long for a header are saved all the same.
func TestUploadPageAnswers(t *testing.T) {
	chromium(t)
	st, fake := startStack(t, "MAX_UPLOAD_BYTES=3145728")
	base := st.BaseURL
	page := tab(t, browser(t)) // closed before the stack stops
	signIn(t, page, base, fake, 1)

	big := noiseWAV(t, "Too big.wav", 4*mib)
	run(t, page, "refuse a file over the limit",
		chromedp.Navigate(base+"/upload"),
		textIs("#limit", "Up to 3 MB per file"),
		chromedp.SetUploadFiles(css("#files"), []string{big}),
		textIs(".upload-item:nth-child(1) .upload-status", "Too large: the archive takes files up to 3 MB"))
	if n := countLog(t, st, "POST", "/api/uploads"); n != 0 {
		t.Fatalf("%d POST /api/uploads for a file over the limit, want none", n)
	}

	take := noiseWAV(t, "Take 5.wav", 200<<10)
	run(t, page, "a refused date marks its field",
		chromedp.SetValue(css("#recorded_date"), "2999-01-01"),
		chromedp.SetUploadFiles(css("#files"), []string{take}),
		textIs(".upload-item:nth-child(2) .upload-status", "not plausible"),
		until(`document.querySelector('#recorded_date').getAttribute('aria-invalid') === 'true'`),
		until(`document.activeElement === document.querySelector('#recorded_date')`),
		textIs("#recorded_date-error", "not plausible"))
	run(t, page, "correct it and try again",
		chromedp.SetValue(css("#recorded_date"), "1999-05-01"),
		chromedp.Click(css(`.upload-item:nth-child(2) button[aria-label="Try again Take 5.wav"]`)),
		untilWithin(`(document.querySelector('.upload-item:nth-child(2) .upload-status')?.textContent || '').includes('Saved')`, time.Minute),
		until(`!document.querySelector('#recorded_date').hasAttribute('aria-invalid')`))
	id := recordingIDOf(t, page, ".upload-item:nth-child(2) a.upload-link")
	checkStored(t, st, id, take)
	if date := awaited[string](t, page, fmt.Sprintf(`fetch('/api/recordings/%s').then(r => r.json()).then(r => r.recorded_date || '')`, id)); date != "1999-05-01" {
		t.Errorf("recorded_date %q, want the corrected 1999-05-01", date)
	}

	run(t, page, "the same file again is already in the archive",
		chromedp.SetUploadFiles(css("#files"), []string{take}),
		untilWithin(`(document.querySelector('.upload-item:nth-child(3) .upload-status')?.textContent || '').includes('Already in the archive')`, time.Minute))
	if got := recordingIDOf(t, page, ".upload-item:nth-child(3) a.upload-link"); got != id {
		t.Errorf("the duplicate links to %s, want %s", got, id)
	}

	notes := strings.Repeat("Ü", 4500) + "\nend" // 9 KB of UTF-8: 12 KB as base64, over a header line's 8 KB
	long := noiseWAV(t, "Long notes.wav", 100<<10)
	run(t, page, "long notes",
		chromedp.SetValue(css("#notes"), notes),
		chromedp.SetUploadFiles(css("#files"), []string{long}),
		untilWithin(`(document.querySelector('.upload-item:nth-child(4) .upload-status')?.textContent || '').includes('Saved')`, time.Minute))
	id = recordingIDOf(t, page, ".upload-item:nth-child(4) a.upload-link")
	if got := awaited[string](t, page, fmt.Sprintf(`fetch('/api/recordings/%s').then(r => r.json()).then(r => r.notes || '')`, id)); got != notes {
		t.Errorf("the notes saved are %d characters, want the %d given", len([]rune(got)), len([]rune(notes)))
	}
	run(t, page, "the summary", textIs("#status", "Uploads finished"))
	checkSentWithTus(t, st)
}

// awaited evaluates a JavaScript expression whose value is a promise.
func awaited[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// countLog counts the requests Nginx logged with this method and path.
func countLog(t *testing.T, st *stack.Stack, method, path string) int {
	t.Helper()
	n := 0
	for _, l := range readLog(t, st.LogFile("nginx-access")) {
		if l.Method == method && l.Path == path {
			n++
		}
	}
	return n
}

// TestUploadBatchDetailsAndEdits: the details of the form go with the
// files added next and only with them (the form is emptied, and "Use them
// again" puts them back); a date given for the batch fills in only the
// files that carry none of their own, unless the member asks for it
// everywhere; a saved file is edited right in the list, a refused edit
// marks its field, and the recording's page opens from the row and the
// list is still there on the way back; a file that is not audio is
// refused whatever its name.
func TestUploadBatchDetailsAndEdits(t *testing.T) {
	chromium(t)
	st, fake := startStack(t)
	base := st.BaseURL
	page := tab(t, browser(t)) // closed before the stack stops
	signIn(t, page, base, fake, 1)

	dated := taggedWAV(t, "Dated.wav", 300<<10, "1998-07-14")
	undated := noiseWAV(t, "Undated.wav", 300<<10)
	run(t, page, "one batch of two files with details",
		chromedp.Navigate(base+"/upload"),
		textIs("#limit", "Up to 500 MB per file"),
		chromedp.SetValue(css("#venue"), "Paradiso"),
		chromedp.SetValue(css("#source"), "DAT"),
		chromedp.SetValue(css("#recorded_date"), "2001-04-01"),
		chromedp.SetUploadFiles(css("#files"), []string{dated, undated}),
		textIs("#details-used-text", "These details went with Dated.wav and 1 more"),
		until(`['venue', 'source', 'recorded_date'].every((id) => document.getElementById(id).value === '')`),
		textIs(".upload-item:nth-child(1) .upload-info", "Paradiso"),
		untilWithin(`[1, 2].every((n) => (document.querySelector('.upload-item:nth-child(' + n + ') .upload-status')?.textContent || '') === 'Saved')`, time.Minute),
		textIs(".upload-item:nth-child(1) .upload-kept", "that date is kept"))
	newShots(t).take(t, page, "upload-details", "#fields")
	first, second := recordingIDOf(t, page, ".upload-item:nth-child(1) a.upload-link"), recordingIDOf(t, page, ".upload-item:nth-child(2) a.upload-link")
	checkRecording(t, page, first, map[string]string{"recorded_date": "1998-07-14", "venue": "Paradiso", "source": "DAT"})
	checkRecording(t, page, second, map[string]string{"recorded_date": "2001-04-01", "venue": "Paradiso", "source": "DAT"})
	if value[bool](t, page, `!!document.querySelector('.upload-item:nth-child(2) .upload-kept')`) {
		t.Errorf("the file without a date of its own says a date was kept")
	}
	run(t, page, "use the batch's date for the file that had its own after all",
		chromedp.Click(css(`.upload-item:nth-child(1) .upload-kept button`)),
		textIs(".upload-item:nth-child(1) .upload-facts", "2001"),
		until(`!document.querySelector('.upload-item:nth-child(1) .upload-kept')`))
	checkRecording(t, page, first, map[string]string{"recorded_date": "2001-04-01"})

	alsoDated := taggedWAV(t, "Also dated.wav", 300<<10, "1997-01-02")
	run(t, page, "the same details again, the date everywhere",
		chromedp.Click(css("#details-again")),
		until(`document.getElementById('venue').value === 'Paradiso' && document.getElementById('recorded_date').value === '2001-04-01'`),
		chromedp.Click(css("#date_everywhere")),
		chromedp.SetUploadFiles(css("#files"), []string{alsoDated}),
		until(`!document.getElementById('date_everywhere').checked && document.getElementById('venue').value === ''`),
		untilWithin(`(document.querySelector('.upload-item:nth-child(3) .upload-status')?.textContent || '') === 'Saved'`, time.Minute))
	checkRecording(t, page, recordingIDOf(t, page, ".upload-item:nth-child(3) a.upload-link"),
		map[string]string{"recorded_date": "2001-04-01", "venue": "Paradiso"})

	plain := noiseWAV(t, "Plain.wav", 200<<10)
	run(t, page, "the next files do not take the last details",
		chromedp.SetUploadFiles(css("#files"), []string{plain}),
		untilWithin(`(document.querySelector('.upload-item:nth-child(4) .upload-status')?.textContent || '') === 'Saved'`, time.Minute))
	checkRecording(t, page, recordingIDOf(t, page, ".upload-item:nth-child(4) a.upload-link"),
		map[string]string{"recorded_date": "", "venue": "", "source": ""})

	const row = ".upload-item:nth-child(2)"
	run(t, page, "edit a saved file in the list",
		chromedp.Click(css(row+` button[aria-label="Edit Undated.wav"]`)),
		until(`document.activeElement?.name === 'title' && document.activeElement.closest('.upload-edit') !== null`),
		chromedp.SetValue(css(row+` .upload-edit input[name="title"]`), "Second set"),
		chromedp.SetValue(css(row+` .upload-edit input[name="recorded_date"]`), "2002-02-02"),
		chromedp.SetValue(css(row+` .upload-edit input[name="venue"]`), "Melkweg"),
		chromedp.Click(css(row+` .upload-edit button[type="submit"]`)),
		textIs(row+" a.upload-link", "Open “Second set”"),
		textIs(row+" .upload-facts", "Melkweg"),
		until(`!document.querySelector('`+row+` .upload-edit')`))
	checkRecording(t, page, second, map[string]string{"title": "Second set", "recorded_date": "2002-02-02", "venue": "Melkweg"})

	run(t, page, "a refused edit marks its field",
		chromedp.Click(css(row+` button[aria-label="Edit Undated.wav"]`)),
		chromedp.SetValue(css(row+` .upload-edit input[name="title"]`), "  "),
		chromedp.Click(css(row+` .upload-edit button[type="submit"]`)),
		until(`document.querySelector('`+row+` .upload-edit input[name="title"]').getAttribute('aria-invalid') === 'true'`),
		textIs(row+" .upload-edit .form-error", "cannot be empty"))
	newShots(t).take(t, page, "upload-edit", row)
	run(t, page, "cancel the edit",
		chromedp.Click(css(row+` .upload-edit [data-cancel]`)),
		until(`!document.querySelector('`+row+` .upload-edit')`))
	checkRecording(t, page, second, map[string]string{"title": "Second set"})

	run(t, page, "open its page from the row, and come back to the list",
		until(`(window.sameDocument = true)`),
		chromedp.Click(css(row+" a.upload-link")),
		textIs("#title", "Second set"),
		until(`location.pathname === '/recordings/`+second+`'`),
		chromedp.NavigateBack(),
		textIs(row+" a.upload-link", "Open “Second set”"),
		until(`document.querySelectorAll('.upload-item').length === 4`))
	if !value[bool](t, page, `window.sameDocument === true`) {
		t.Errorf("the recording's page and the way back reloaded the document: the list came back some other way")
	}

	notAudio := filepath.Join(t.TempDir(), "Not audio.wav")
	if err := os.WriteFile(notAudio, bytes.Repeat([]byte("These are the words of a song, not its sound.\n"), 3000), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, page, "a file that is not audio, whatever its name",
		textIs("#limit", "per file"),
		chromedp.SetUploadFiles(css("#files"), []string{notAudio}),
		untilWithin(`(document.querySelector('.upload-item:nth-child(5) .upload-status')?.textContent || '').includes('is not audio the archive can read, whatever its name says')`, time.Minute))
}

// TestUploadGoesOnAcrossPages: an upload whose line dropped keeps trying
// while the member looks at the archive (the shell swaps the page, the
// document stays); once the line is back it finishes there, without the
// upload page, and the page shows it saved on the way back.
func TestUploadGoesOnAcrossPages(t *testing.T) {
	chromium(t)
	line := newFlakyLine(t)
	st, fake := startStack(t, "BASE_URL="+line.URL, "MAX_CHUNK_BYTES=1048576")
	line.connect(t, st.URL)
	base := line.URL
	page := tab(t, browser(t))
	signIn(t, page, base, fake, 1)

	wav := noiseWAV(t, "Late set.wav", 3*mib)
	line.dropAt(mib, 100<<10)
	run(t, page, "upload, and lose the line",
		chromedp.Navigate(base+"/upload"),
		textIs("#limit", "Up to 500 MB per file"),
		chromedp.SetUploadFiles(css("#files"), []string{wav}),
		line.dropped(time.Minute),
		untilWithin(`(document.querySelector('.upload-item')?.textContent || '').includes('Connection lost, retrying')`, time.Minute))
	run(t, page, "go to the archive",
		until(`(window.sameDocument = true)`),
		chromedp.Click(css(`#nav a[href="/"]`)),
		chromedp.WaitVisible(css("#sort")),
		until(`location.pathname === '/' && !document.querySelector('#dropzone')`))
	line.up()
	deadline := time.Now().Add(time.Minute)
	for awaited[float64](t, page, `fetch('/api/recordings').then((r) => r.json()).then((b) => b.total)`) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the upload did not finish while the archive was shown; the line saw:\n%s", line.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !value[bool](t, page, `window.sameDocument === true && location.pathname === '/'`) {
		t.Fatal("the upload finished, but the archive page was reloaded meanwhile")
	}
	run(t, page, "back to the upload page",
		chromedp.Click(css(`#nav a[href="/upload"]`)),
		textIs(".upload-item .upload-status", "Saved"),
		textIs("#overall", "1 of 1 file"),
		until(`window.sameDocument === true`))
	checkStored(t, st, recordingIDOf(t, page, ".upload-item a.upload-link"), wav)
}

// checkRecording fails unless the recording's fields, as the API gives
// them (a null as ""), are want's.
func checkRecording(t *testing.T, ctx context.Context, id string, want map[string]string) {
	t.Helper()
	got := awaited[map[string]any](t, ctx, fmt.Sprintf(`fetch('/api/recordings/%s').then((r) => r.json())`, id))
	for k, w := range want {
		g, _ := got[k].(string)
		if g != w {
			t.Errorf("recording %s: %s = %q, want %q", id, k, g, w)
		}
	}
}

// taggedWAV writes a WAV file of about size bytes of random samples that
// carries its recording date in a RIFF INFO list (ICRD), after the audio
// as recorders write it.
func taggedWAV(t *testing.T, name string, size int, date string) string {
	t.Helper()
	wav := apptest.WAV(size/2, 44100)
	rand.Read(wav[44:])
	icrd := append([]byte(date), 0)
	if len(icrd)%2 == 1 {
		icrd = append(icrd, 0)
	}
	list := binary.LittleEndian.AppendUint32([]byte("ICRD"), uint32(len(icrd)))
	list = append([]byte("INFO"), append(list, icrd...)...)
	wav = append(wav, "LIST"...)
	wav = binary.LittleEndian.AppendUint32(wav, uint32(len(list)))
	wav = append(wav, list...)
	binary.LittleEndian.PutUint32(wav[4:8], uint32(len(wav)-8))
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, wav, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"bandarchive/local/stack"
	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
)

// The edge in front of the band's server, as local/proxy_test.go has it:
// Traefik reads each request for at most its read timeout, and a member's
// home line delivers a body at most this fast.
const (
	edgeReadTimeout = 3 * time.Second
	edgeRate        = 2 * mib // bytes a second
)

// TestUploadThroughTheEdgeThatBites uploads a recording through a proxy
// that gives each request 3 s and takes bodies at 2 MiB/s: the 12 MB file
// needs 6 s, so one request cannot carry it, as a plain POST /api/upload
// shows first. The upload page's tus client gets it through all the same,
// in chunks: it starts with 1 MiB (0.5 s), then sizes chunks for 15 s at
// the speed it measured, so its second chunk is the rest of the file, which
// the proxy cuts after 3 s. The archive keeps what arrived, the client asks
// where the upload stands (HEAD), and goes on with smaller chunks from
// there. Whether a chunk is cut or not, the page must end at 100% with the
// very bytes of the file in the archive. (The client's 15 s is more than
// this proxy's 3 s, so a cut is expected here; the real edge cuts at 60 s.)
func TestUploadThroughTheEdgeThatBites(t *testing.T) {
	chromium(t)
	edge := newEdge(t)
	st, fake := startStack(t, "BASE_URL="+edge.URL)
	edge.connect(t, st.URL)
	base := edge.URL
	page := tab(t, browser(t)) // closed before the stack stops
	t.Cleanup(func() {
		if t.Failed() {
			explainUpload(t, page, st, edge)
		}
	})
	signIn(t, page, base, fake, 1)

	// The proxy bites: a plain Go client whose small file goes through
	// in one request cannot send the 12 MB one that way.
	wav := noiseWAV(t, "Live at the Roxy.wav", 12_000_000) // 6 s at 2 MiB/s
	session := sessionCookie(t, page, base)
	small := noiseWAV(t, "Soundcheck.wav", 200<<10)
	if got := postWhole(t, base, session, small); got.err != nil || got.status != http.StatusCreated {
		t.Fatalf("a 200 KB file in one request through the proxy: %s; want 201 (the client is not right, and the test would prove nothing)", got)
	}
	whole := postWhole(t, base, session, wav)
	switch {
	case whole.err == nil && whole.status == http.StatusCreated:
		t.Fatalf("the 12 MB file got through the proxy in one request (%s): it does not bite, and the test proves nothing", whole)
	case whole.err == nil && whole.status != http.StatusBadGateway, whole.took < edgeReadTimeout*9/10:
		t.Fatalf("the 12 MB file in one request: %s; want the proxy to cut it after %s (an error or its 502)", whole, edgeReadTimeout)
	}
	t.Logf("the 12 MB file in one request through the proxy: %s", whole)

	// The page's tus client gets it through.
	began := time.Now()
	run(t, page, "upload through the proxy",
		chromedp.Navigate(base+"/upload"),
		chromedp.WaitVisible(css("#dropzone")),
		// The page's script is listening for a file once it shows the limit.
		textIs("#limit", "Up to 500 MB per file"),
		chromedp.SetUploadFiles(css("#files"), []string{wav}),
		untilWithin(`(document.querySelector('.upload-item .upload-status')?.textContent || '').includes('Saved')`, time.Minute),
		textIs("#overall", "1 of 1 file"))
	took := time.Since(began)
	if p := value[float64](t, page, `(() => { const p = document.querySelector('.upload-item progress'); return p.value / p.max * 100 })()`); p != 100 {
		t.Fatalf("progress bar at %v%%, want 100%%", p)
	}
	id := recordingIDOf(t, page, ".upload-item a.upload-link")
	if status := awaited[float64](t, page, fmt.Sprintf(`fetch('/api/recordings/%s').then(r => r.status)`, id)); status != http.StatusOK {
		t.Fatalf("GET /api/recordings/%s answered %v, want 200", id, status)
	}
	checkStored(t, st, id, wav)

	// What the archive saw: the file in several PATCHes, and no more
	// one-request uploads than the Go client's two.
	counts := checkChunked(t, st)
	t.Logf("opening the page and uploading took %s; the requests the proxy passed on:\n%s", took.Round(10*time.Millisecond), edge.line.log())
	for _, name := range []string{"nginx-access", "upload"} {
		c := counts[name]
		t.Logf("%s log: %d PATCHes (%s); %d HEADs, asking where the upload stood (%s)", name, c.patches(), c.patchStatuses(), c.heads(), c.headStatuses())
	}
}

// ---------- the edge ----------

// edge is a reverse proxy like Traefik in front of the band's server: its
// http.Server reads each request for at most edgeReadTimeout, and it takes
// bodies at most edgeRate bytes a second. Behind it, a flakyLine (never
// told to drop) passes the requests on to Nginx and notes the upload
// requests; the line's own address is not used.
type edge struct {
	URL    string
	line   *flakyLine
	server *http.Server
}

func newEdge(t *testing.T) *edge {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &edge{URL: "http://" + ln.Addr().String(), line: newFlakyLine(t)}
	e.server = &http.Server{
		ReadTimeout: edgeReadTimeout,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = apptest.Paced(r.Body, edgeRate)
			e.line.ServeHTTP(w, r)
		}),
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go e.server.Serve(ln)
	t.Cleanup(e.close)
	return e
}

// connect sends what the edge passes to Nginx at target. Called after the
// stack started, its cleanups run before the stack stops.
func (e *edge) connect(t *testing.T, target string) {
	t.Helper()
	e.line.connect(t, target)
	t.Cleanup(e.close)
}

func (e *edge) close() { e.server.Close() }

// sessionCookie is the page's session cookie, for a Go client.
func sessionCookie(t *testing.T, page context.Context, base string) *http.Cookie {
	t.Helper()
	res, err := chromedp.Call(page, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
	if err != nil {
		t.Fatalf("the page's cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == auth.CookieName {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	t.Fatalf("the page has no %s cookie for %s", auth.CookieName, base)
	return nil
}

// sent is how a one-request upload went.
type sent struct {
	status int // 0: no answer
	err    error
	took   time.Duration
}

func (s sent) String() string {
	if s.err != nil {
		return fmt.Sprintf("failed after %s: %v", s.took.Round(10*time.Millisecond), s.err)
	}
	return fmt.Sprintf("%d %s after %s", s.status, http.StatusText(s.status), s.took.Round(10*time.Millisecond))
}

// postWhole sends the file at path in one POST /api/upload, as a plain Go
// client with the page's session.
func postWhole(t *testing.T, base string, session *http.Cookie, path string) sent {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	form, ct := apptest.Multipart(t, map[string]string{"title": "In one request"}, filepath.Base(path), content)
	req, err := http.NewRequest(http.MethodPost, base+"/api/upload", bytes.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Origin", base)
	req.AddCookie(session)
	transport := &http.Transport{DisableKeepAlives: true}
	defer transport.CloseIdleConnections()
	began := time.Now()
	resp, err := (&http.Client{Transport: transport, Timeout: time.Minute}).Do(req)
	if err != nil {
		return sent{err: err, took: time.Since(began)}
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return sent{status: resp.StatusCode, took: time.Since(began)}
}

// ---------- what the logs say ----------

// uploadCounts counts the upload requests of one log by method and status.
type uploadCounts struct {
	created, whole int            // POST /api/uploads 201, POST /api/upload
	patch, head    map[string]int // by status
}

func (c uploadCounts) patches() int          { return total(c.patch) }
func (c uploadCounts) heads() int            { return total(c.head) }
func (c uploadCounts) patchStatuses() string { return statuses(c.patch) }
func (c uploadCounts) headStatuses() string  { return statuses(c.head) }

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// statuses reads "3× 204, 1× 400".
func statuses(m map[string]int) string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d× %s", m[s], s))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// checkChunked fails unless Nginx and the upload function saw the page's
// file go the resumable way: an upload created, at least two PATCHes (one
// request cannot carry it), of which the function accepted one at least,
// and no one-request upload but the Go client's two. (A PATCH the proxy
// cut after its last byte, while the archive was finishing the upload,
// is one the function accepted and Nginx logged as the client's loss.)
// The logs are written as the answers leave: a few seconds are allowed.
// It returns the counts of both logs.
func checkChunked(t *testing.T, st *stack.Stack) map[string]uploadCounts {
	t.Helper()
	var last error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		last = nil
		all := map[string]uploadCounts{}
		for _, name := range []string{"nginx-access", "upload"} {
			c := uploadCounts{patch: map[string]int{}, head: map[string]int{}}
			for _, l := range readLog(t, st.LogFile(name)) {
				if name == "upload" && l.Msg != "request" {
					continue
				}
				status := strings.Trim(string(l.Status), `"`)
				switch {
				case l.Method == http.MethodPost && l.Path == "/api/uploads" && status == "201":
					c.created++
				case l.Method == http.MethodPatch && uploadPath.MatchString(l.Path):
					c.patch[status]++
				case l.Method == http.MethodHead && uploadPath.MatchString(l.Path):
					c.head[status]++
				case l.Method == http.MethodPost && l.Path == "/api/upload":
					c.whole++
				}
			}
			all[name] = c
			if c.created < 1 || c.patches() < 2 || name == "upload" && c.patch["204"] < 1 || c.whole != 2 {
				last = errors.Join(last, fmt.Errorf("%s: %d POST /api/uploads created, %d PATCHes (%s), %d POST /api/upload; want ≥1, ≥2 (the function's: one 204 at least), 2 (the Go client's)",
					st.LogFile(name), c.created, c.patches(), c.patchStatuses(), c.whole))
			}
		}
		if last == nil {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatal(last)
		}
	}
}

// explainUpload logs what a failed upload left: the page's upload item,
// the requests the proxy passed on, Nginx's upload requests and the
// upload function's log.
func explainUpload(t *testing.T, page context.Context, st *stack.Stack, e *edge) {
	t.Helper()
	ctx, cancel := context.WithTimeout(page, 5*time.Second)
	defer cancel()
	item, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.upload-item')?.textContent || '(no upload item)'`))
	if err != nil {
		item = err.Error()
	}
	t.Logf("the page's upload item: %s", strings.Join(strings.Fields(item), " "))
	t.Logf("the requests the proxy passed on:\n%s", e.line.log())
	for _, name := range []string{"nginx-access", "upload"} {
		raw, err := os.ReadFile(st.LogFile(name))
		if err != nil {
			t.Logf("%s: %v", name, err)
			continue
		}
		var lines []string
		for _, l := range strings.Split(string(raw), "\n") {
			if name == "upload" && l != "" || strings.Contains(l, "/api/upload") {
				lines = append(lines, l)
			}
		}
		t.Logf("%s:\n%s", st.LogFile(name), strings.Join(lines, "\n"))
	}
}

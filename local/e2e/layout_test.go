package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"bandarchive/shared/apptest"
)

// TestLayoutNeverBreaks: a 200-character title and a file name of
// underscores and no spaces wrap (the whole title stays readable); at a
// phone's 390 px, a tablet's 768 px and a desktop's 1280 px no page scrolls
// sideways, and every column of the list can be reached.
func TestLayoutNeverBreaks(t *testing.T) {
	chromium(t)
	st, fake := startStack(t)
	base := st.BaseURL
	page := tab(t, browser(t))
	signIn(t, page, base, fake, 1)
	session := sessionCookie(t, page, base)
	long := strings.TrimSpace(strings.Repeat("Lantern over the harbour, ", 8))[:200]
	upload := func(fields map[string]string, name string, samples int) {
		t.Helper()
		form, ct := apptest.Multipart(t, fields, name, apptest.WAV(samples, 8000))
		req, _ := http.NewRequest(http.MethodPost, base+"/api/upload", bytes.NewReader(form))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Origin", base)
		req.AddCookie(session)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload %s: %v %v", name, err, resp)
		}
		resp.Body.Close()
	}
	upload(map[string]string{"title": long, "venue": "Paradiso, Amsterdam", "source": "DAT"}, "long.wav", 8000)
	upload(nil, "Rehearsal_2003_03_14_take_2_final_mix_master_version_three_withoutanyspacesatall.wav", 8001)
	id := firstRecording(t, page, base)

	for _, width := range []int64{390, 768, 1280} {
		for _, path := range []string{"/recordings/" + id, "/"} { // the list last: its columns are checked next
			step := fmt.Sprintf("%s at %d px", path, width)
			run(t, page, step,
				chromedp.EmulateViewport(width, 900),
				chromedp.Navigate(base+path),
				chromedp.WaitVisible(css("main")),
				until(`!!document.querySelector('.recording a.title, #d-title:not(:empty)')`),
				until(`document.documentElement.scrollWidth <= window.innerWidth`))
		}
		// Every column of the list: on screen, or in the table's own
		// horizontal scroll.
		reachable := value[bool](t, page, `(() => {
			const wrap = document.querySelector('#results');
			const cells = [...document.querySelectorAll('tr.recording')[0].children].filter((td) => td.offsetParent !== null && td.textContent.trim() !== '');
			return cells.length > 0 && cells.every((td) => td.getBoundingClientRect().right <= window.innerWidth + 1 || wrap.scrollWidth > wrap.clientWidth);
		})()`)
		if !reachable {
			t.Errorf("at %d px a column of the list cannot be reached", width)
		}
		newShots(t).take(t, page, fmt.Sprintf("layout-%d", width))
	}
}

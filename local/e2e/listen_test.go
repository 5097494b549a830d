package e2e

import (
	"bandarchive/shared/apptest"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAIFFPlaysItsListeningCopy: Chromium cannot play AIFF. Uploaded, an
// AIFF gets a listening copy from the worker; its page plays the copy,
// seeks in it, and draws a waveform that is not a flat line.
func TestAIFFPlaysItsListeningCopy(t *testing.T) {
	chromium(t)
	aiff := filepath.Join(t.TempDir(), "Cassette side A.aiff")
	// Twelve seconds of a quiet tone under noise, as a transfer might be.
	gen := exec.Command(apptest.FFmpeg(t).FFmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=f=330:d=12",
		"-f", "lavfi", "-i", "anoisesrc=d=12:a=0.02", "-filter_complex", "amix=inputs=2,volume=0.3",
		"-ar", "44100", "-ac", "2", aiff)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("make the AIFF: %v\n%s", err, out)
	}
	st, fake := startStack(t)
	base := st.BaseURL
	page := tab(t, browser(t))
	signIn(t, page, base, fake, 1)
	if value[string](t, page, `document.createElement('audio').canPlayType('audio/aiff')`) != "" {
		t.Fatal("this Chromium says it plays AIFF: the test would prove nothing")
	}

	run(t, page, "upload the AIFF",
		chromedp.Navigate(base+"/upload"),
		textIs("#limit", "per file"),
		chromedp.SetUploadFiles(css("#files"), []string{aiff}),
		untilWithin(`(document.querySelector('.upload-item .upload-status')?.textContent || '').includes('Saved')`, time.Minute))
	id := recordingIDOf(t, page, ".upload-item a.upload-link")
	run(t, page, "open its page",
		chromedp.Navigate(base+"/recordings/"+id),
		chromedp.WaitVisible(css("#waveform")),
		// The copy is made within seconds; the page switches to it by itself.
		untilWithin(`document.querySelector('#player').src.endsWith('/listen')`, time.Minute),
		textIs("#playing-text", "listening copy"),
		textIs("#loudness", "LUFS"))
	run(t, page, "play and seek",
		until(`(() => { const p = document.querySelector('#player'); p.muted = true; p.play(); p.currentTime = 7; return true })()`),
		untilWithin(`(() => { const p = document.querySelector('#player'); return !p.error && p.currentTime >= 7 && p.readyState >= 2 })()`, time.Minute))
	if d := value[float64](t, page, `document.querySelector('#player').duration`); d < 11.8 || d > 12.2 {
		t.Errorf("the copy plays for %.2f s, want 12 ± 0.2", d)
	}
	// Bars reach well above the middle line: a flat line is drawn within
	// a pixel or two of it.
	tall := value[bool](t, page, `(() => {
		const c = document.querySelector('#waveform');
		const d = c.getContext('2d').getImageData(0, 0, c.width, Math.floor(c.height / 2) - 6).data;
		for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
		return false })()`)
	if !tall {
		t.Error("the waveform is a flat line")
	}
	newShots(t).take(t, page, "listening-copy")
}

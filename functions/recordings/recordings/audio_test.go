package recordings_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"bandarchive/shared/apptest"
	"bandarchive/shared/config"
	"bandarchive/shared/db"
)

func TestAudioRangesAndCaching(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		b, _ := h.Member("ann@band.example", db.RoleMember)
		wav := apptest.WAV(50000, 8000) // 100 044 bytes
		rec := b.UploadOK(nil, "Probe – Köln \"live\".wav", wav)
		audio := "/api/recordings/" + rec.ID + "/audio"
		size := len(wav)
		tests := []struct {
			name, rangeHeader string
			want              int
			from, to          int // expected body wav[from:to]
			contentRange      string
		}{
			{"whole", "", http.StatusOK, 0, size, ""},
			{"first bytes", "bytes=0-99", http.StatusPartialContent, 0, 100, fmt.Sprintf("bytes 0-99/%d", size)},
			{"middle", "bytes=50000-50999", http.StatusPartialContent, 50000, 51000, fmt.Sprintf("bytes 50000-50999/%d", size)},
			{"open end", fmt.Sprintf("bytes=%d-", size-10), http.StatusPartialContent, size - 10, size, fmt.Sprintf("bytes %d-%d/%d", size-10, size-1, size)},
			{"suffix", "bytes=-500", http.StatusPartialContent, size - 500, size, fmt.Sprintf("bytes %d-%d/%d", size-500, size-1, size)},
			{"unsatisfiable", fmt.Sprintf("bytes=%d-", size+10), http.StatusRequestedRangeNotSatisfiable, 0, 0, fmt.Sprintf("bytes */%d", size)},
			{"empty suffix", "bytes=-0", http.StatusRequestedRangeNotSatisfiable, 0, 0, fmt.Sprintf("bytes */%d", size)},
			{"empty suffixes", "bytes=-0, -00", http.StatusRequestedRangeNotSatisfiable, 0, 0, fmt.Sprintf("bytes */%d", size)},
		}
		for _, tt := range tests {
			req := apptest.NewRequest(t, "GET", audio, nil)
			if tt.rangeHeader != "" {
				req.Header.Set("Range", tt.rangeHeader)
			}
			r := b.Do(req)
			if r.Status != tt.want {
				t.Errorf("%s: status %d, want %d", tt.name, r.Status, tt.want)
				continue
			}
			if got := r.Header.Get("Content-Range"); got != tt.contentRange {
				t.Errorf("%s: Content-Range %q, want %q", tt.name, got, tt.contentRange)
			}
			if tt.want < 300 {
				if !bytes.Equal(r.Body, wav[tt.from:tt.to]) {
					t.Errorf("%s: body of %d bytes is not bytes %d-%d of the file", tt.name, len(r.Body), tt.from, tt.to)
				}
				if ct := r.Header.Get("Content-Type"); ct != "audio/wav" {
					t.Errorf("%s: Content-Type %q, want audio/wav", tt.name, ct)
				}
				if r.Header.Get("Accept-Ranges") != "bytes" {
					t.Errorf("%s: no Accept-Ranges: bytes", tt.name)
				}
			}
		}
		first := b.Call("GET", audio, nil)
		etag := first.Header.Get("ETag")
		if etag != `"`+rec.SHA256+`"` {
			t.Fatalf("ETag %q, want the quoted SHA-256", etag)
		}
		req := apptest.NewRequest(t, "GET", audio, nil)
		req.Header.Set("If-None-Match", etag)
		if r := b.Do(req); r.Status != http.StatusNotModified || len(r.Body) != 0 {
			t.Errorf("If-None-Match: %d with %d bytes, want 304 and none", r.Status, len(r.Body))
		}
		head := b.Do(apptest.NewRequest(t, "HEAD", audio, nil))
		if head.Status != http.StatusOK || len(head.Body) != 0 || head.Header.Get("Content-Length") != fmt.Sprint(size) {
			t.Errorf("HEAD: %d, %d body bytes, Content-Length %q", head.Status, len(head.Body), head.Header.Get("Content-Length"))
		}
		dl := b.Call("GET", audio+"?download=1", nil)
		cd := dl.Header.Get("Content-Disposition")
		wantCD := `attachment; filename="Probe _ K_ln _live_.wav"; filename*=UTF-8''Probe%20%E2%80%93%20K%C3%B6ln%20%22live%22.wav`
		if cd != wantCD {
			t.Errorf("Content-Disposition\n got %s\nwant %s", cd, wantCD)
		}
		if first.Header.Get("Content-Disposition") != "" {
			t.Error("playback offered an attachment")
		}
		for _, p := range []string{"/api/recordings/not-a-uuid/audio", "/api/recordings/00000000-0000-0000-0000-000000000000/audio"} {
			if r := b.Call("GET", p, nil); r.Status != http.StatusNotFound || r.ErrorCode() != "not_found" {
				t.Errorf("GET %s: %d, want a JSON 404", p, r.Status)
			}
		}
		if r := h.Browser("203.0.113.200").Call("GET", audio, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("signed-out playback: %d, want 401", r.Status)
		}
	})
}

func TestAudioThroughNginxIsAnAccelRedirect(t *testing.T) {
	apptest.BothWith(t, archive, apptest.Options{Configure: func(c *config.Config) { c.Storage.AccelRedirectPrefix = "/_recordings/" }}, func(t *testing.T, h *apptest.Harness) {
		b, _ := h.Member("ann@band.example", db.RoleMember)
		rec := b.UploadOK(nil, "a.wav", apptest.WAV(4000, 8000))
		r := b.Call("GET", "/api/recordings/"+rec.ID+"/audio?download=1", nil)
		if want := "/_recordings/" + rec.ID + "/original.wav"; r.Header.Get("X-Accel-Redirect") != want {
			t.Fatalf("X-Accel-Redirect %q, want %q", r.Header.Get("X-Accel-Redirect"), want)
		}
		if r.Status != http.StatusOK || len(r.Body) != 0 || r.Header.Get("Content-Type") != "audio/wav" ||
			!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("accel answer: %d, %d bytes, %v", r.Status, len(r.Body), r.Header)
		}
	})
}

// TestAudioOnLambdaComesInPieces: Lambda's answers are at most 6 MB, so
// there a whole file, or an open or long range, is answered with its first
// 4 MiB (206) and players ask for the next; self-hosted, nothing is cut.
func TestAudioOnLambdaComesInPieces(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		b, _ := h.Member("ann@band.example", db.RoleMember)
		wav := apptest.WAV(2_600_000, 44100) // 5.2 MB
		rec := b.UploadOK(nil, "long.wav", wav)
		audio := "/api/recordings/" + rec.ID + "/audio"
		const piece = 4 << 20
		tests := []struct {
			rangeHeader      string
			lambdaFrom, upTo int
		}{
			{"", 0, piece},
			{"bytes=100-", 100, 100 + piece},
			{"bytes=0-5000000", 0, piece},
			{"bytes=10-99", 10, 100},
		}
		for _, tt := range tests {
			r := apptest.NewRequest(t, "GET", audio, nil)
			if tt.rangeHeader != "" {
				r.Header.Set("Range", tt.rangeHeader)
			}
			got := b.Do(r)
			if h.Edge == apptest.HTTP && tt.rangeHeader != "bytes=10-99" {
				if len(got.Body) < piece {
					t.Errorf("self-hosted %q: %d bytes, want no cut", tt.rangeHeader, len(got.Body))
				}
				continue
			}
			want := fmt.Sprintf("bytes %d-%d/%d", tt.lambdaFrom, tt.upTo-1, len(wav))
			if got.Status != http.StatusPartialContent || got.Header.Get("Content-Range") != want || !bytes.Equal(got.Body, wav[tt.lambdaFrom:tt.upTo]) {
				t.Errorf("%s %q: %d Content-Range %q, %d bytes; want 206 %q", h.Edge, tt.rangeHeader, got.Status, got.Header.Get("Content-Range"), len(got.Body), want)
			}
		}
	})
}

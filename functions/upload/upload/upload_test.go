package upload_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/config"
	"bandarchive/shared/db"
	"bandarchive/shared/routes"
)

// archive mounts upload, and recordings to read back what was uploaded.
var archive = functions.Mount(nil, routes.Upload, routes.Recordings)

var formatOfExt = map[string]struct{ format, mime string }{
	".wav": {"wav", "audio/wav"}, ".mp3": {"mp3", "audio/mpeg"}, ".flac": {"flac", "audio/flac"},
	".ogg": {"ogg", "audio/ogg"}, ".opus": {"ogg", "audio/ogg"}, ".m4a": {"m4a", "audio/mp4"},
	".aiff": {"aiff", "audio/aiff"}, ".aif": {"aiff", "audio/aiff"},
}

func TestUploadEveryFormat(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/audio/testdata/*")
	seen := map[string]bool{}
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		b, _ := h.Member("ann@band.example", db.RoleMember)
		for _, f := range files {
			want, ok := formatOfExt[strings.ToLower(filepath.Ext(f))]
			if !ok {
				continue
			}
			content, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rec := b.UploadOK(nil, filepath.Base(f), content)
			seen[want.format] = true
			sum := sha256.Sum256(content)
			if rec.Format != want.format || rec.MIMEType != want.mime || rec.FileSizeBytes != int64(len(content)) || rec.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: got %s %s %d bytes %s", f, rec.Format, rec.MIMEType, rec.FileSizeBytes, rec.SHA256)
			}
			if rec.DurationSeconds == nil || *rec.DurationSeconds <= 0 {
				t.Errorf("%s: no duration", f)
			}
			h.WaitJobs()
			var processed struct {
				Peaks []byte `json:"peaks"`
				Copy  struct {
					Status string `json:"status"`
				} `json:"listening_copy"`
			}
			b.Call("GET", "/api/recordings/"+rec.ID, nil).JSON(t, &processed)
			if len(processed.Peaks) != 512 || processed.Copy.Status != "ready" {
				t.Errorf("%s: %d peaks, listening copy %q; want 512 and ready", f, len(processed.Peaks), processed.Copy.Status)
			}
			stored, err := os.ReadFile(filepath.Join(h.Parts.Config.Storage.UploadsDir, rec.ID, "original."+rec.Format))
			if err != nil || !bytes.Equal(stored, content) {
				t.Errorf("%s: stored file differs from the upload (%v)", f, err)
			}
		}
	})
	for _, f := range []string{"wav", "mp3", "flac", "ogg", "m4a", "aiff"} {
		if !seen[f] {
			t.Errorf("no fixture of format %s was uploaded", f)
		}
	}
}

func TestUploadRefusesAndLeavesNothing(t *testing.T) {
	apptest.BothWith(t, archive, apptest.Options{Configure: func(c *config.Config) { c.Storage.MaxUploadBytes = 20_000 }}, func(t *testing.T, h *apptest.Harness) {
		b, _ := h.Member("ann@band.example", db.RoleMember)
		wav := apptest.WAV(5000, 8000) // 10 044 bytes
		tests := []struct {
			name     string
			fields   map[string]string
			filename string
			content  []byte
			want     int
		}{
			{"text named .wav", nil, "song.wav", []byte("this is not audio, just text\n"), http.StatusUnsupportedMediaType},
			{"png", nil, "cover.wav", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...), http.StatusUnsupportedMediaType},
			{"empty", nil, "empty.wav", []byte{}, http.StatusBadRequest},
			{"no file part", map[string]string{"title": "x"}, "", nil, http.StatusBadRequest},
			{"over the limit", nil, "long.wav", apptest.WAV(15000, 8000), http.StatusRequestEntityTooLarge},
			{"bad date", map[string]string{"recorded_date": "14.07.1998"}, "a.wav", wav, http.StatusBadRequest},
			{"future date", map[string]string{"recorded_date": "2999-01-01"}, "a.wav", wav, http.StatusBadRequest},
			{"title too long", map[string]string{"title": strings.Repeat("t", 201)}, "a.wav", wav, http.StatusBadRequest},
			{"header cut short", nil, "cut.wav", wav[:30], http.StatusUnsupportedMediaType},
		}
		for _, tt := range tests {
			r := b.Upload(tt.fields, tt.filename, tt.content)
			if r.Status != tt.want || r.ErrorCode() == "" {
				t.Errorf("%s: %d %s, want %d with a JSON error", tt.name, r.Status, r.Body, tt.want)
			}
		}
		req := apptest.NewRequest(t, "POST", "/api/upload", wav)
		req.Header.Set("Content-Type", "audio/wav")
		if r := b.Do(req); r.Status != http.StatusUnsupportedMediaType {
			t.Errorf("raw body upload: %d, want 415", r.Status)
		}
		if r := h.Browser("203.0.113.99").Upload(nil, "a.wav", wav); r.Status != http.StatusUnauthorized {
			t.Errorf("signed-out upload: %d, want 401", r.Status)
		}
		if left := h.UploadsLeft(); len(left) != 0 {
			t.Errorf("refused uploads left files behind: %v", left)
		}
		if n := h.RowCount("recordings"); n != 0 {
			t.Errorf("refused uploads left %d rows", n)
		}
	})
}

func TestUploadMetadataAndDuplicates(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		b, _ := h.Member("ann@band.example", db.RoleMember)
		wav := apptest.WAV(8000, 8000)
		rec := b.UploadOK(map[string]string{"title": "  Rehearsal ", "recorded_date": "1998-07-14", "venue": "Köln", "source": "DAT", "notes": "take 2\nbest one"},
			`C:\Users\ann\Proben/Probe – 1998.wav`, wav)
		if rec.Title != "Rehearsal" || rec.RecordedDate == nil || *rec.RecordedDate != "1998-07-14" || rec.Venue != "Köln" ||
			rec.Source != "DAT" || rec.Notes != "take 2\nbest one" || rec.OriginalFilename != "Probe – 1998.wav" {
			t.Errorf("recording = %+v", rec)
		}
		if rec.DurationSeconds == nil || *rec.DurationSeconds != 1 {
			t.Errorf("duration = %v, want 1 s", rec.DurationSeconds)
		}
		if rec.Members != 1 || rec.Count != 0 || rec.Average != nil || rec.UploadedByName != "ann" {
			t.Errorf("score summary of a new recording = %+v", rec)
		}
		r := b.Upload(map[string]string{"title": "Same bytes"}, "copy.wav", wav)
		var conflict struct {
			Error struct {
				Code       string `json:"code"`
				ExistingID string `json:"existing_id"`
			} `json:"error"`
		}
		r.JSON(t, &conflict)
		if r.Status != http.StatusConflict || conflict.Error.ExistingID != rec.ID {
			t.Fatalf("duplicate: %d %s, want 409 naming %s", r.Status, r.Body, rec.ID)
		}
		// Without a title, the file name (less its extension) names it.
		other := b.UploadOK(map[string]string{"title": ""}, "gig at the Roxy.wav", apptest.WAV(8001, 8000))
		if other.Title != "gig at the Roxy" || other.RecordedDate != nil {
			t.Errorf("untitled upload: title %q date %v", other.Title, other.RecordedDate)
		}
		if left := h.UploadsLeft(); len(left) != 2 {
			t.Errorf("files in the uploads dir: %v, want the 2 recordings", left)
		}
	})
}

func TestUploadRowFailureRemovesTheFile(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		b, _ := h.Member("ann@band.example", db.RoleMember)
		_, err := h.DB.Pool().Exec(context.Background(), `
			CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full (test)'; END $$;
			CREATE TRIGGER refuse BEFORE INSERT ON recordings FOR EACH ROW EXECUTE FUNCTION refuse();`)
		if err != nil {
			t.Fatal(err)
		}
		r := b.Upload(nil, "a.wav", apptest.WAV(4000, 8000))
		if r.Status != http.StatusInternalServerError || strings.Contains(string(r.Body), "disk full") {
			t.Fatalf("insert failure: %d %s, want a 500 that says nothing internal", r.Status, r.Body)
		}
		if left := h.UploadsLeft(); len(left) != 0 {
			t.Fatalf("the file outlived its failed row: %v", left)
		}
		if !strings.Contains(h.Logs.String(), "disk full (test)") {
			t.Error("the cause is not in the log")
		}
	})
}

// TestUploadKilledHalfWayLeavesNothing disconnects mid-body; it runs on
// the self-hosted edge, the only one that streams.
func TestUploadKilledHalfWayLeavesNothing(t *testing.T) {
	h := apptest.New(t, apptest.HTTP, archive, apptest.Options{})
	b, _ := h.Member("ann@band.example", db.RoleMember)
	body, ct := apptest.Multipart(t, map[string]string{"title": "cut"}, "big.wav", apptest.WAV(500_000, 44100))
	u, _ := url.Parse(h.URL())
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/upload HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nCookie: bandarchive_session=%s\r\n\r\n",
		u.Host, apptest.BaseURL, ct, len(body), b.Session())
	conn.Write(body[:len(body)/2])
	// Wait until the server holds a temporary file, then hang up.
	deadline := time.Now().Add(time.Minute)
	for len(h.UploadsLeft()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(h.UploadsLeft()) == 0 {
		t.Fatal("the server never started writing the upload")
	}
	conn.Close()
	// A client that went away is logged as 499 at info level, not as a 500.
	for time.Now().Before(deadline.Add(time.Minute)) {
		if len(h.UploadsLeft()) == 0 && strings.Contains(h.Logs.String(), `"path":"/api/upload","status":499`) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if left := h.UploadsLeft(); len(left) != 0 {
		t.Fatalf("an interrupted upload left %v", left)
	}
	if !strings.Contains(h.Logs.String(), `"msg":"client went away"`) || strings.Contains(h.Logs.String(), `"level":"ERROR"`) {
		t.Fatalf("an interrupted upload was not logged as a client that went away:\n%s", h.Logs)
	}
	if n := h.RowCount("recordings"); n != 0 {
		t.Fatalf("an interrupted upload left %d rows", n)
	}
}

// id3v23 is an ID3v2.3 tag holding one APIC frame of n bytes of zeros
// (cover art), as taggers put in front of FLAC and WAV files too.
func id3v23(n int) []byte {
	frame := append([]byte("APIC"), byte(n>>24), byte(n>>16), byte(n>>8), byte(n), 0, 0)
	frame = append(frame, make([]byte, n)...)
	size := len(frame)
	return append([]byte{'I', 'D', '3', 3, 0, 0,
		byte(size >> 21 & 0x7f), byte(size >> 14 & 0x7f), byte(size >> 7 & 0x7f), byte(size & 0x7f)}, frame...)
}

// TestFLACBehindALargeTag: a tag larger than the first 64 KiB hides what
// follows from the early check; the whole file tells FLAC from MP3, on
// both ways to upload.
func TestFLACBehindALargeTag(t *testing.T) {
	flac, err := os.ReadFile("../../../shared/audio/testdata/tone.flac")
	if err != nil {
		t.Fatal(err)
	}
	content := append(id3v23(70_000), flac...)
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		b, _ := h.Member("ann@band.example", db.RoleMember)
		rec := b.UploadOK(nil, "tagged.flac", content)
		if rec.Format != "flac" || rec.DurationSeconds == nil || *rec.DurationSeconds < 0.9 || *rec.DurationSeconds > 1.1 {
			t.Fatalf("one request: format %s, duration %v; want flac, about 1 s", rec.Format, rec.DurationSeconds)
		}
		h.DB.Pool().Exec(context.Background(), `DELETE FROM recordings`)
		_, last := b.TusUpload(map[string]string{"filename": "tagged.flac"}, content, 64<<10)
		var got apptest.Recording
		b.Call("GET", "/api/recordings/"+last.Header.Get("Recording-Id"), nil).JSON(t, &got)
		if got.Format != "flac" {
			t.Fatalf("resumable: format %q, want flac (%d %v)", got.Format, last.Status, last.Header)
		}
	})
}

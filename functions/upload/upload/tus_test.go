package upload_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"bandarchive/shared/apptest"
	"bandarchive/shared/config"
	"bandarchive/shared/db"
	"bandarchive/shared/storage"
)

// smallChunks makes chunks cheap to exceed.
var smallChunks = apptest.Options{Configure: func(c *config.Config) { c.Storage.MaxChunkBytes = 256 << 10 }}

func wantStatus(t *testing.T, what string, r apptest.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, want)
	}
	if r.Header.Get("Tus-Resumable") != "1.0.0" {
		t.Errorf("%s: Tus-Resumable %q, want 1.0.0 on every answer", what, r.Header.Get("Tus-Resumable"))
	}
}

func TestTusDiscoveryAndCreation(t *testing.T) {
	apptest.BothWith(t, archive, smallChunks, func(t *testing.T, h *apptest.Harness) {
		b, _ := h.Member("ann@band.example", db.RoleMember)
		r := b.Call("OPTIONS", "/api/uploads", nil)
		wantStatus(t, "OPTIONS", r, http.StatusNoContent)
		for k, want := range map[string]string{"Tus-Version": "1.0.0", "Tus-Extension": "creation,termination,expiration",
			"Tus-Max-Size": strconv.Itoa(500 << 20)} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("OPTIONS %s: got %q, want %q", k, got, want)
			}
		}
		noVersion := apptest.NewRequest(t, "POST", "/api/uploads", nil)
		noVersion.Header.Set("Upload-Length", "100")
		wantStatus(t, "creation without Tus-Resumable", b.Do(noVersion), http.StatusPreconditionFailed)

		tests := []struct {
			name      string
			length    int64
			meta      map[string]string
			want      int
			wantField string
		}{
			{"no file name", 1000, map[string]string{"title": "x"}, http.StatusBadRequest, "filename"},
			{"over the limit", 500<<20 + 1, map[string]string{"filename": "big.wav"}, http.StatusRequestEntityTooLarge, ""},
			{"empty", 0, map[string]string{"filename": "e.wav"}, http.StatusBadRequest, "file"},
			{"a venue too long, refused before any byte", 1000, map[string]string{"filename": "a.wav", "venue": string(bytes.Repeat([]byte("v"), 201))}, http.StatusBadRequest, "venue"},
			{"a date that is not one", 1000, map[string]string{"filename": "a.wav", "recorded_date": "1999-13-40"}, http.StatusBadRequest, "recorded_date"},
			{"fine", 1000, map[string]string{"filename": "a.wav", "title": "Gig"}, http.StatusCreated, ""},
		}
		for _, tt := range tests {
			r := b.TusCreate(tt.length, tt.meta)
			wantStatus(t, tt.name, r, tt.want)
			var e struct {
				Error struct{ Field string } `json:"error"`
			}
			if tt.wantField != "" {
				r.JSON(t, &e)
				if e.Error.Field != tt.wantField {
					t.Errorf("%s: field %q, want %q", tt.name, e.Error.Field, tt.wantField)
				}
			}
			if tt.want == http.StatusCreated {
				if loc := r.Header.Get("Location"); len(loc) != len("/api/uploads/")+36 || r.Header.Get("Upload-Expires") == "" {
					t.Errorf("%s: Location %q, Upload-Expires %q", tt.name, loc, r.Header.Get("Upload-Expires"))
				}
			}
		}
		if n := h.RowCount("uploads"); n != 1 {
			t.Errorf("%d upload rows, want only the fine one", n)
		}
	})
}

func TestTusUploadInChunksBecomesARecording(t *testing.T) {
	apptest.BothWith(t, archive, smallChunks, func(t *testing.T, h *apptest.Harness) {
		b, _ := h.Member("ann@band.example", db.RoleMember)
		content := apptest.WAV(300_000, 44100) // 600 KB: three chunks
		meta := map[string]string{"filename": "Gig 1999.wav", "title": "Paradiso", "venue": "Amsterdam", "recorded_date": "1999-03-12"}
		path, last := b.TusUpload(meta, content, 250<<10)
		wantStatus(t, "last PATCH", last, http.StatusNoContent)
		id := last.Header.Get("Recording-Id")
		if last.Header.Get("Upload-Offset") != strconv.Itoa(len(content)) || id == "" || last.Header.Get("Recording-Duplicate") != "" {
			t.Fatalf("last PATCH headers: %v", last.Header)
		}
		var rec apptest.Recording
		b.Call("GET", "/api/recordings/"+id, nil).JSON(t, &rec)
		sum := sha256.Sum256(content)
		if rec.Title != "Paradiso" || rec.Venue != "Amsterdam" || rec.RecordedDate == nil || *rec.RecordedDate != "1999-03-12" ||
			rec.OriginalFilename != "Gig 1999.wav" || rec.SHA256 != hex.EncodeToString(sum[:]) || rec.Format != "wav" {
			t.Fatalf("recording %+v", rec)
		}
		stored, _ := os.ReadFile(filepath.Join(h.Parts.Config.Storage.UploadsDir, id, "original.wav"))
		if !bytes.Equal(stored, content) {
			t.Fatal("stored bytes differ from the uploaded ones")
		}
		// The client lost the last answer: HEAD, and the final PATCH again,
		// tell the same recording; no second one is made.
		head := b.TusHead(path)
		wantStatus(t, "HEAD of a finished upload", head, http.StatusOK)
		if head.Header.Get("Recording-Id") != id || head.Header.Get("Upload-Offset") != strconv.Itoa(len(content)) {
			t.Fatalf("HEAD: %v", head.Header)
		}
		again := b.TusPatch(path, int64(len(content)), nil)
		wantStatus(t, "final PATCH again", again, http.StatusNoContent)
		if again.Header.Get("Recording-Id") != id || h.RowCount("recordings") != 1 {
			t.Fatalf("final PATCH again: %v, %d recordings", again.Header, h.RowCount("recordings"))
		}
		// The same file again is the existing recording, answered 2xx.
		_, dup := b.TusUpload(map[string]string{"filename": "copy.wav"}, content, 250<<10)
		wantStatus(t, "duplicate upload", dup, http.StatusNoContent)
		if dup.Header.Get("Recording-Id") != id || dup.Header.Get("Recording-Duplicate") != "true" || h.RowCount("recordings") != 1 {
			t.Fatalf("duplicate: %v, %d recordings", dup.Header, h.RowCount("recordings"))
		}
		if left := h.UploadsLeft(); len(left) != 1 {
			t.Errorf("files left: %v, want only the one original", left)
		}
	})
}

func TestTusRefusals(t *testing.T) {
	apptest.BothWith(t, archive, smallChunks, func(t *testing.T, h *apptest.Harness) {
		ann, _ := h.Member("ann@band.example", db.RoleMember)
		bob, _ := h.Member("bob@band.example", db.RoleMember)
		content := apptest.WAV(100_000, 8000)
		path := ann.TusCreate(int64(len(content)), map[string]string{"filename": "a.wav"}).Header.Get("Location")

		wantStatus(t, "PATCH at the wrong offset", ann.TusPatch(path, 10, content[10:100]), http.StatusConflict)
		wrongType := apptest.NewRequest(t, "PATCH", path, content[:100])
		wrongType.Header.Set("Tus-Resumable", "1.0.0")
		wrongType.Header.Set("Upload-Offset", "0")
		wrongType.Header.Set("Content-Type", "application/json")
		wantStatus(t, "PATCH of JSON", ann.Do(wrongType), http.StatusUnsupportedMediaType)
		wantStatus(t, "PATCH over the chunk limit", ann.TusPatch(path, 0, make([]byte, 256<<10+1)), http.StatusRequestEntityTooLarge)

		// Another member's upload does not exist for them.
		wantStatus(t, "HEAD by another member", bob.TusHead(path), http.StatusNotFound)
		wantStatus(t, "PATCH by another member", bob.TusPatch(path, 0, content[:100]), http.StatusNotFound)
		del := apptest.NewRequest(t, "DELETE", path, nil)
		del.Header.Set("Tus-Resumable", "1.0.0")
		wantStatus(t, "DELETE by another member", bob.Do(del), http.StatusNotFound)

		// A small first chunk waits for the first 64 KiB to decide.
		wantStatus(t, "first 1000 bytes", ann.TusPatch(path, 0, content[:1000]), http.StatusNoContent)
		wantStatus(t, "up to 100 KB", ann.TusPatch(path, 1000, content[1000:100_000]), http.StatusNoContent)

		// Random bytes are refused on the PATCH that brings the first 64 KiB,
		// and the upload is gone.
		noise := make([]byte, 200_000)
		rand.Read(noise)
		bad := ann.TusCreate(int64(len(noise)), map[string]string{"filename": "gig.wav"}).Header.Get("Location")
		wantStatus(t, "random bytes named .wav", ann.TusPatch(bad, 0, noise[:100_000]), http.StatusUnsupportedMediaType)
		wantStatus(t, "HEAD of the refused upload", ann.TusHead(bad), http.StatusNotFound)

		// Termination frees the bytes at once.
		del = apptest.NewRequest(t, "DELETE", path, nil)
		del.Header.Set("Tus-Resumable", "1.0.0")
		wantStatus(t, "DELETE", ann.Do(del), http.StatusNoContent)
		wantStatus(t, "HEAD after DELETE", ann.TusHead(path), http.StatusNotFound)
		if left := h.UploadsLeft(); len(left) != 0 {
			t.Errorf("files left: %v", left)
		}

		// A member may have three unfinished uploads at once.
		for i := range 3 {
			wantStatus(t, fmt.Sprint("unfinished upload ", i+1), ann.TusCreate(1000, map[string]string{"filename": "x.wav"}), http.StatusCreated)
		}
		wantStatus(t, "a fourth unfinished upload", ann.TusCreate(1000, map[string]string{"filename": "x.wav"}), http.StatusTooManyRequests)
		wantStatus(t, "another member's first", bob.TusCreate(1000, map[string]string{"filename": "x.wav"}), http.StatusCreated)
	})
}

func TestTusUploadsExpire(t *testing.T) {
	h := apptest.New(t, apptest.HTTP, archive, smallChunks)
	b, _ := h.Member("ann@band.example", db.RoleMember)
	content := apptest.WAV(100_000, 8000)
	path := b.TusCreate(int64(len(content)), map[string]string{"filename": "a.wav"}).Header.Get("Location")
	wantStatus(t, "first chunk", b.TusPatch(path, 0, content[:100_000]), http.StatusNoContent)
	h.Clock.Advance(25 * time.Hour)
	wantStatus(t, "HEAD after a day", b.TusHead(path), http.StatusNotFound)
	store, err := storage.Open(h.Parts.Config.Storage.UploadsDir)
	if err != nil {
		t.Fatal(err)
	}
	rows := storage.Rows{
		Recording: h.DB.RecordingExists,
		Upload:    func(ctx context.Context, id uuid.UUID) (bool, error) { return h.DB.UploadLive(ctx, id, h.Clock.Now()) },
	}
	if err := store.Sweep(context.Background(), rows, time.Now().Add(time.Hour), time.Minute, 24*time.Hour, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if left := h.UploadsLeft(); len(left) != 0 {
		t.Errorf("the sweep left %v of an expired upload", left)
	}
	// Four new uploads: the expired one no longer counts against the bounds.
	for i := range 3 {
		wantStatus(t, fmt.Sprint("upload ", i+1), b.TusCreate(1000, map[string]string{"filename": "x.wav"}), http.StatusCreated)
	}
}

// rawPatch starts a PATCH over its own connection, sends the headers and
// part of the body, and leaves the connection open.
func rawPatch(t *testing.T, h *apptest.Harness, b *apptest.Browser, path string, offset int64, declared int, part []byte) net.Conn {
	t.Helper()
	u, _ := url.Parse(h.URL())
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: %d\r\n"+
		"Content-Type: application/offset+octet-stream\r\nContent-Length: %d\r\nCookie: bandarchive_session=%s\r\n\r\n",
		path, u.Host, apptest.BaseURL, offset, declared, b.Session())
	conn.Write(part)
	return conn
}

// waitOffset polls HEAD until the upload is at want (a minute at most).
func waitOffset(t *testing.T, b *apptest.Browser, path string, want int64) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = b.TusHead(path).Header.Get("Upload-Offset"); got == strconv.FormatInt(want, 10) {
			return
		}
	}
	t.Fatalf("Upload-Offset %s, want %d", got, want)
}

// TestTusResumesAfterACutConnection: what arrived before the cut is kept
// and acknowledged; the client continues from there. Meanwhile a second
// request for the same upload is refused (423), never interleaved.
func TestTusResumesAfterACutConnection(t *testing.T) {
	h := apptest.New(t, apptest.HTTP, archive, smallChunks)
	b, _ := h.Member("ann@band.example", db.RoleMember)
	content := apptest.WAV(100_000, 8000) // 200 KB
	path := b.TusCreate(int64(len(content)), map[string]string{"filename": "cut.wav"}).Header.Get("Location")

	conn := rawPatch(t, h, b, path, 0, len(content), content[:120_000])
	defer conn.Close()
	// Once that request is writing (its bytes reach the file), another
	// request for the upload is refused.
	partial := filepath.Join(h.Parts.Config.Storage.UploadsDir, ".partial", filepath.Base(path))
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st, err := os.Stat(partial); err == nil && st.Size() > 0 {
			break
		}
	}
	wantStatus(t, "a second PATCH while the first writes", b.TusPatch(path, 0, content[:1000]), http.StatusLocked)
	conn.Close()
	waitOffset(t, b, path, 120_000)

	last := b.TusPatch(path, 120_000, content[120_000:])
	wantStatus(t, "the rest", last, http.StatusNoContent)
	id := last.Header.Get("Recording-Id")
	stored, _ := os.ReadFile(filepath.Join(h.Parts.Config.Storage.UploadsDir, id, "original.wav"))
	if !bytes.Equal(stored, content) {
		t.Fatal("the resumed upload's bytes differ")
	}
}

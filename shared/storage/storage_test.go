package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestUploadCommitAbort(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte("recording "), 50_000)
	up, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	// Small writes, as the multipart reader makes them.
	for p := content; len(p) > 0; {
		n := min(len(p), 4096)
		up.Write(p[:n])
		p = p[n:]
	}
	if err := up.Flush(); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content)
	if !bytes.Equal(up.Sum(), want[:]) || up.Size() != int64(len(content)) {
		t.Fatalf("sum/size = %x/%d, want %x/%d", up.Sum(), up.Size(), want, len(content))
	}
	head := make([]byte, 9)
	if _, err := up.ReadAt(head, 10); err != nil || string(head) != "recording" {
		t.Fatalf("ReadAt = %q, %v", head, err)
	}
	id := uuid.New()
	if err := up.Commit(id, "wav"); err != nil {
		t.Fatal(err)
	}
	if err := up.Keep(); err != nil {
		t.Fatal(err)
	}
	up.Abort() // after Keep: nothing happens
	f, err := s.Open(id, "wav")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, content) {
		t.Fatal("committed file differs")
	}
	if tmp, _ := os.ReadDir(filepath.Join(s.Dir(), tmpDir)); len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}

	aborted, _ := s.Create()
	aborted.Write([]byte("half"))
	aborted.Abort()
	if tmp, _ := os.ReadDir(filepath.Join(s.Dir(), tmpDir)); len(tmp) != 0 {
		t.Fatalf("Abort left %v", tmp)
	}

	// Committed but never kept (its row failed): Abort removes the directory.
	failed, _ := s.Create()
	failed.Write([]byte("no row"))
	failedID := uuid.New()
	if err := failed.Commit(failedID, "wav"); err != nil {
		t.Fatal(err)
	}
	failed.Abort()
	if _, err := os.Stat(filepath.Join(s.Dir(), failedID.String())); !os.IsNotExist(err) {
		t.Fatal("Abort after Commit left the recording directory")
	}

	hidden, err := s.Hide(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path(id, "wav")); !os.IsNotExist(err) {
		t.Fatal("Hide left the file in place")
	}
	// A second deletion at the same time finds nothing to hide.
	second, err := s.Hide(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Restore(); err != nil {
		t.Fatal(err)
	}
	if err := hidden.Restore(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path(id, "wav")); err != nil {
		t.Fatalf("Restore: %v", err)
	}
}

func TestSweep(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old := now.Add(-48 * time.Hour)
	touch := func(p string, at time.Time) {
		t.Helper()
		os.MkdirAll(filepath.Dir(p), 0o750)
		if err := os.WriteFile(p, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, at, at)
		os.Chtimes(filepath.Dir(p), at, at)
	}
	oldTmp := filepath.Join(s.Dir(), tmpDir, "upload-old")
	newTmp := filepath.Join(s.Dir(), tmpDir, "upload-new")
	touch(oldTmp, old)
	touch(newTmp, now)
	kept, orphanOld, orphanNew, hiddenKept, hiddenGone := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	hiddenRecent := uuid.New() // deleted an hour ago: kept for backups taken before
	touch(filepath.Join(s.Dir(), trashDir, hiddenRecent.String()+".abc", "original.wav"), now.Add(-2*time.Hour))
	touch(s.Path(kept, "wav"), old)
	touch(s.Path(orphanOld, "wav"), old)
	touch(s.Path(orphanNew, "wav"), now)
	touch(filepath.Join(s.Dir(), trashDir, hiddenKept.String(), "original.wav"), old)
	touch(filepath.Join(s.Dir(), trashDir, hiddenGone.String(), "original.wav"), old)
	recordings := []uuid.UUID{kept, hiddenKept}
	exists := func(_ context.Context, id uuid.UUID) (bool, error) { return slices.Contains(recordings, id), nil }

	// Live writers hold their locks: an upload in progress, a deletion in
	// progress, a committed upload whose row is being written.
	live, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	os.Chtimes(live.f.Name(), old, old)
	deleting := uuid.New()
	touch(s.Path(deleting, "wav"), old)
	hiding, err := s.Hide(deleting)
	if err != nil {
		t.Fatal(err)
	}
	defer hiding.Purge()
	os.Chtimes(hiding.path, old, old)
	inserting, _ := s.Create()
	insertingID := uuid.New()
	if err := inserting.Commit(insertingID, "wav"); err != nil {
		t.Fatal(err)
	}
	defer inserting.Abort()
	os.Chtimes(filepath.Join(s.Dir(), insertingID.String()), old, old)

	// Resumable uploads: one abandoned (expired), one live, one being written.
	abandoned, liveUpload, writing := uuid.New(), uuid.New(), uuid.New()
	touch(filepath.Join(s.Dir(), partialDir, abandoned.String()), old)
	touch(filepath.Join(s.Dir(), partialDir, liveUpload.String()), old)
	w, err := s.OpenPartial(writing)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	os.Chtimes(filepath.Join(s.Dir(), partialDir, writing.String()), old, old)
	uploads := []uuid.UUID{liveUpload}
	rows := Rows{
		Recording: exists,
		Upload:    func(_ context.Context, id uuid.UUID) (bool, error) { return slices.Contains(uploads, id), nil },
	}

	if err := s.Sweep(context.Background(), rows, now, time.Hour, 24*time.Hour, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		exists bool
	}{
		{"old temporary file", oldTmp, false},
		{"fresh temporary file (an upload in progress)", newTmp, true},
		{"recording with a row", s.Path(kept, "wav"), true},
		{"old file without a row", s.Path(orphanOld, "wav"), false},
		{"fresh file without a row (its insert may be running)", s.Path(orphanNew, "wav"), true},
		{"interrupted deletion whose row remains: restored", s.Path(hiddenKept, "wav"), true},
		{"finished deletion, older than the retention: purged", filepath.Join(s.Dir(), trashDir, hiddenGone.String()), false},
		{"finished deletion, within the retention: kept", filepath.Join(s.Dir(), trashDir, hiddenRecent.String()+".abc", "original.wav"), true},
		{"old but locked temporary file (a slow upload)", live.f.Name(), true},
		{"deletion in progress, its row not yet gone", hiding.path, true},
		{"committed upload whose row is being written", filepath.Join(s.Dir(), insertingID.String()), true},
		{"partial file of an expired upload", filepath.Join(s.Dir(), partialDir, abandoned.String()), false},
		{"partial file of a live upload", filepath.Join(s.Dir(), partialDir, liveUpload.String()), true},
		{"partial file being written, its upload expired", filepath.Join(s.Dir(), partialDir, writing.String()), true},
	}
	for _, tt := range tests {
		_, err := os.Stat(tt.path)
		if got := err == nil; got != tt.exists {
			t.Errorf("%s: exists = %v, want %v", tt.name, got, tt.exists)
		}
	}

	// A backup's database, restored, holds the row of the recording
	// deleted an hour ago: the sweep puts its files back.
	recordings = append(recordings, hiddenRecent)
	if err := s.Sweep(context.Background(), rows, now, time.Hour, 24*time.Hour, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path(hiddenRecent, "wav")); err != nil {
		t.Errorf("a trashed recording whose row came back: %v, want it restored", err)
	}
}

// TestHideStartsTheTrashClock: a hidden recording's age in the trash counts
// from its deletion, not from its upload.
func TestHideStartsTheTrashClock(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	u, _ := s.Create()
	u.Write([]byte("RIFF"))
	if err := u.Commit(id, "wav"); err != nil {
		t.Fatal(err)
	}
	u.Keep()
	year := time.Now().Add(-365 * 24 * time.Hour)
	os.Chtimes(filepath.Join(s.Dir(), id.String()), year, year)
	h, err := s.Hide(id)
	if err != nil {
		t.Fatal(err)
	}
	h.Discard()
	st, err := os.Stat(h.path)
	if err != nil || time.Since(st.ModTime()) > time.Minute {
		t.Fatalf("trashed %v ago (%v), want just now", time.Since(st.ModTime()), err)
	}
}

// failingReader brings some bytes, then fails as a cut connection does.
type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestPartialAppendKeepsWhatArrived(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	p, err := s.OpenPartial(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenPartial(id); err != ErrBusy {
		t.Fatalf("second writer: %v, want ErrBusy", err)
	}
	h := sha256.New()
	if n, err := p.Append(0, bytes.NewReader([]byte("hello ")), h); n != 6 || err != nil {
		t.Fatalf("Append: %d, %v", n, err)
	}
	// A chunk cut half-way: what arrived is on disk and counted.
	n, err := p.Append(6, &failingReader{data: []byte("wor")}, h)
	if n != 3 || err != io.ErrUnexpectedEOF {
		t.Fatalf("cut Append: %d, %v; want 3 and the read error", n, err)
	}
	// The client resumes from the acknowledged 6 (say the server crashed
	// before acknowledging 9): bytes past it are dropped.
	h2 := sha256.New()
	h2.Write([]byte("hello "))
	if n, err := p.Append(6, bytes.NewReader([]byte("world")), h2); n != 5 || err != nil {
		t.Fatalf("resumed Append: %d, %v", n, err)
	}
	got, _ := os.ReadFile(filepath.Join(s.Dir(), partialDir, id.String()))
	if string(got) != "hello world" {
		t.Fatalf("partial file %q, want %q", got, "hello world")
	}
	want := sha256.Sum256([]byte("hello world"))
	if !bytes.Equal(h2.Sum(nil), want[:]) {
		t.Fatal("the hash carried across chunks differs from the file's")
	}
	p.Close()
	if err := s.RemovePartial(id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), partialDir, id.String())); !os.IsNotExist(err) {
		t.Fatal("RemovePartial left the file")
	}
}

// TestSweepProbeDoesNotRefuseAWriter: the sweep's look at a partial
// upload's lock (locked) never makes a writer opening it fail, while a
// second writer is still refused at once.
func TestSweepProbeDoesNotRefuseAWriter(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	p, err := s.OpenPartial(id)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	// The sweep probes without pause while a writer opens and closes the
	// file, until both have done it a thousand times.
	var probes atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				locked(s.partialPath(id))
				probes.Add(1)
			}
		}
	}()
	defer close(stop)
	for i := 0; i < 1000 || probes.Load() < 1000; i++ {
		p, err := s.OpenPartial(id)
		if err != nil {
			t.Fatalf("open %d, after %d probes: %v", i, probes.Load(), err)
		}
		p.Close()
	}
	held, err := s.OpenPartial(id)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := s.OpenPartial(id); !errors.Is(err, ErrBusy) {
		t.Fatalf("a second writer: %v, want ErrBusy", err)
	}
}

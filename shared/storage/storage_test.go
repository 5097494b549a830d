package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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
	if err := s.Commit(up, id, "wav"); err != nil {
		t.Fatal(err)
	}
	up.Abort() // after Commit: nothing happens
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

	if err := s.Hide(id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path(id, "wav")); !os.IsNotExist(err) {
		t.Fatal("Hide left the file in place")
	}
	if err := s.Restore(id); err != nil {
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
	touch(s.Path(kept, "wav"), old)
	touch(s.Path(orphanOld, "wav"), old)
	touch(s.Path(orphanNew, "wav"), now)
	touch(filepath.Join(s.Dir(), trashDir, hiddenKept.String(), "original.wav"), old)
	touch(filepath.Join(s.Dir(), trashDir, hiddenGone.String(), "original.wav"), old)
	rows := []uuid.UUID{kept, hiddenKept}
	exists := func(_ context.Context, id uuid.UUID) (bool, error) { return slices.Contains(rows, id), nil }

	if err := s.Sweep(context.Background(), now, 24*time.Hour, exists, slog.New(slog.DiscardHandler)); err != nil {
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
		{"finished deletion: purged", filepath.Join(s.Dir(), trashDir, hiddenGone.String()), false},
	}
	for _, tt := range tests {
		_, err := os.Stat(tt.path)
		if got := err == nil; got != tt.exists {
			t.Errorf("%s: exists = %v, want %v", tt.name, got, tt.exists)
		}
	}
}

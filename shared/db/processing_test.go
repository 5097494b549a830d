package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
	"bandarchive/shared/errs"
)

// TestProcessingCorrectsTheLengthAndRetriesOnlyFailures: the decoded
// length replaces the header's only beyond 1% (or 0.1 s); a failed
// recording can be processed again, once, and a ready one cannot.
func TestProcessingCorrectsTheLengthAndRetriesOnlyFailures(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	u, err := d.CreateUser(ctx, "ann@example.org", "Ann", db.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	header := 100.0
	rec := db.Recording{ID: uuid.New(), Title: "Take", OriginalFilename: "take.mp3", Format: "mp3", MIMEType: "audio/mpeg",
		DurationSeconds: &header, FileSizeBytes: 10, SHA256: []byte("0123456789abcdef0123456789abcdef"),
		UploadedAt: time.Now(), UploadedBy: u.ID}
	if err := d.InsertRecording(ctx, rec); err != nil {
		t.Fatal(err)
	}
	length := func() float64 {
		t.Helper()
		r, err := d.Recording(ctx, rec.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return *r.DurationSeconds
	}
	for _, tt := range []struct {
		decoded   float64
		corrected bool
		want      float64
	}{
		{100.5, false, 100}, // within 1%
		{340, true, 340},    // a VBR MP3 read as CBR: 3.4× off
		{340.05, false, 340},
	} {
		got, err := d.FinishProcessing(ctx, rec.ID, db.Processed{Seconds: tt.decoded})
		if err != nil || got != tt.corrected || length() != tt.want {
			t.Errorf("decoded %v: corrected %v (%v), length %v; want %v, %v", tt.decoded, got, err, length(), tt.corrected, tt.want)
		}
	}
	if err := d.RetryProcessing(ctx, rec.ID); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("retry of a ready recording: %v, want a conflict", err)
	}
	if err := d.FailProcessing(ctx, rec.ID, "ffmpeg cannot decode this file."); err != nil {
		t.Fatal(err)
	}
	if err := d.RetryProcessing(ctx, rec.ID); err != nil {
		t.Fatalf("retry of a failed recording: %v", err)
	}
	r, _ := d.Recording(ctx, rec.ID, u.ID)
	if r.Copy.Status != db.Pending || r.Copy.Error != nil {
		t.Fatalf("after the retry: %+v, want pending without an error", r.Copy)
	}
	if err := d.RetryProcessing(ctx, rec.ID); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("a second retry while pending: %v, want a conflict", err)
	}
}

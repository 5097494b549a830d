package worker_test

import (
	"context"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/db"
	"bandarchive/shared/media"
	"bandarchive/shared/routes"
	"bandarchive/shared/storage"
)

// TestEveryFormatGetsACopy: a recording in each format the archive takes
// (made here by ffmpeg: a quiet tone under noise, 20 s) gets a listening
// copy with the original's length (±0.2 s) at −16 LUFS (±1 LU), the
// original's loudness measured, and a waveform that is not flat.
func TestEveryFormatGetsACopy(t *testing.T) {
	ff := apptest.FFmpeg(t)
	h := apptest.New(t, apptest.HTTP, functions.Mount(nil, routes.Upload, routes.Recordings), apptest.Options{})
	b := h.Browser("192.0.2.90")
	b.SignInAs(h.User("ann@band.example", "Ann", db.RoleMember))
	dir := t.TempDir()
	formats := []struct {
		name, file string
		args       []string
	}{
		{"aiff", "take.aiff", nil},
		{"rf64", "take.wav", []string{"-rf64", "always"}},
		{"flac", "take.flac", nil},
		{"mp3", "take.mp3", []string{"-c:a", "libmp3lame", "-b:a", "192k"}},
		{"opus", "take.ogg", []string{"-c:a", "libopus", "-b:a", "96k"}},
		{"m4a", "take.m4a", []string{"-c:a", "aac", "-b:a", "160k"}},
	}
	for i, f := range formats {
		path := filepath.Join(dir, f.name+"-"+f.file)
		args := append([]string{"-v", "error", "-f", "lavfi", "-i", "sine=f=220:d=20", "-f", "lavfi",
			"-i", "anoisesrc=d=20:c=pink:a=0.05:seed=" + string(rune('1'+i)), "-filter_complex", "amix=inputs=2,volume=0.2",
			"-ar", "48000", "-ac", "2"}, f.args...)
		if out, err := exec.Command(ff.FFmpeg, append(args, path)...).CombinedOutput(); err != nil {
			t.Fatalf("%s: make it: %v\n%s", f.name, err, out)
		}
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rec := b.UploadOK(nil, filepath.Base(path), content)
		h.WaitJobs()
		var got struct {
			Peaks []byte `json:"peaks"`
			Copy  struct {
				Status          string   `json:"status"`
				Error           *string  `json:"error"`
				MIMEType        string   `json:"mime_type"`
				Bytes           int64    `json:"bytes"`
				LoudnessLUFS    *float64 `json:"loudness_lufs"`
				TruePeakDBTP    *float64 `json:"true_peak_dbtp"`
				LoudnessRangeLU *float64 `json:"loudness_range_lu"`
			} `json:"listening_copy"`
		}
		b.Call("GET", "/api/recordings/"+rec.ID, nil).JSON(t, &got)
		c := got.Copy
		if c.Status != "ready" || c.MIMEType != "audio/mp4" || c.Bytes == 0 {
			t.Errorf("%s: listening copy %+v (error %v), want ready audio/mp4", f.name, c, c.Error)
			continue
		}
		if c.LoudnessLUFS == nil || c.TruePeakDBTP == nil || c.LoudnessRangeLU == nil || *c.LoudnessLUFS > -20 || *c.LoudnessLUFS < -45 {
			t.Errorf("%s: the original's loudness %v, want a quiet recording's, measured", f.name, c.LoudnessLUFS)
		}
		copyPath := filepath.Join(h.Parts.Config.Storage.UploadsDir, rec.ID, storage.CopyName(media.CopyExt))
		d, err := ff.Duration(context.Background(), copyPath)
		if err != nil || math.Abs(d-20) > 0.2 {
			t.Errorf("%s: the copy lasts %.3f s (%v), want 20 ± 0.2", f.name, d, err)
		}
		l, err := ff.Measure(context.Background(), copyPath)
		if err != nil || math.Abs(l.Integrated-media.TargetLUFS) > 1 {
			t.Errorf("%s: the copy's loudness %.2f LUFS (%v), want %v ± 1", f.name, l.Integrated, err, media.TargetLUFS)
		}
		if l.TruePeak > media.TargetTruePeak+0.5 {
			t.Errorf("%s: the copy peaks at %.2f dBTP, want at most about %v", f.name, l.TruePeak, media.TargetTruePeak)
		}
		var hi byte
		for _, p := range got.Peaks {
			hi = max(hi, p)
		}
		if len(got.Peaks) == 0 || hi < 64 {
			t.Errorf("%s: waveform of %d peaks up to %d: flat", f.name, len(got.Peaks), hi)
		}
	}
}

// TestDeletedWhileProcessed: a recording deleted while ffmpeg reads it
// ends its job quietly. ffmpeg then fails in words of its own (the file is
// gone), which must not count as a file it cannot decode: no ERROR, no
// retry.
func TestDeletedWhileProcessed(t *testing.T) {
	real := apptest.FFmpeg(t)
	bin := t.TempDir()
	started, gone := filepath.Join(bin, "started"), filepath.Join(bin, "gone")
	// An ffmpeg that says it started, waits until the test has deleted
	// the recording, then fails as ffmpeg does on a vanished file.
	script := "#!/bin/sh\ntouch " + started + "\nwhile [ ! -e " + gone + " ]; do sleep 0.05; done\n" +
		"echo 'original.wav: No such file or directory' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "ffmpeg"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real.FFprobe, filepath.Join(bin, "ffprobe")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	h := apptest.New(t, apptest.HTTP, functions.Mount(nil, routes.Upload, routes.Recordings), apptest.Options{})
	b := h.Browser("192.0.2.91")
	b.SignInAs(h.User("ann@band.example", "Ann", db.RoleMember))
	rec := b.UploadOK(nil, "take.wav", apptest.WAV(8000*3, 8000))
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not start ffmpeg within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := b.Call("DELETE", "/api/recordings/"+rec.ID, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if err := os.WriteFile(gone, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h.WaitJobs()
	if logs := h.Logs.String(); strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("a recording deleted while processed logged an error:\n%s", logs)
	}
}

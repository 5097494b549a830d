package media

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func find(t *testing.T) FFmpeg {
	t.Helper()
	ff, ok := Find()
	if !ok {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is not installed: the worker's tests need Debian's ffmpeg package")
		}
		t.Skip("ffmpeg is not installed")
	}
	ff.Nice = 0 // the test waits for it, however busy the machine
	return ff
}

// makeFile writes a 10 s test file of the lavfi source and filter given.
func makeFile(t *testing.T, ff FFmpeg, name, source, filter string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	args := []string{"-v", "error", "-f", "lavfi", "-i", source, "-t", "10", "-ar", "44100", "-ac", "2"}
	if filter != "" {
		args = append(args, "-af", filter)
	}
	if out, err := exec.Command(ff.FFmpeg, append(args, path)...).CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", name, err, out)
	}
	return path
}

// TestExtremesStillGetACopy: digital silence (no loudness to measure) and
// clipped noise louder than 0 LUFS (outside what loudnorm takes as a
// measurement) both get a listening copy of their length.
func TestExtremesStillGetACopy(t *testing.T) {
	ff := find(t)
	for _, tt := range []struct {
		name, source, filter string
		silent               bool
	}{
		{"silence.wav", "anullsrc=r=44100:cl=stereo", "", true},
		{"clipped.wav", "anoisesrc=a=1:c=white", "volume=20dB", false},
	} {
		src := makeFile(t, ff, tt.name, tt.source, tt.filter)
		a, err := ff.Analyse(context.Background(), src)
		if err != nil {
			t.Fatalf("%s: analyse: %v", tt.name, err)
		}
		if a.Loudness.Silent() != tt.silent || math.Abs(a.Seconds-10) > 0.01 || len(a.Peaks) == 0 {
			t.Fatalf("%s: %+v, %.3f s, %d peaks; want silent %v, 10 s", tt.name, a.Loudness, a.Seconds, len(a.Peaks), tt.silent)
		}
		dst := filepath.Join(t.TempDir(), "listen.m4a")
		if err := ff.Transcode(context.Background(), src, dst, a); err != nil {
			t.Fatalf("%s: transcode: %v", tt.name, err)
		}
		if d, err := ff.Duration(context.Background(), dst); err != nil || math.Abs(d-10) > 0.2 {
			t.Fatalf("%s: the copy lasts %.3f s (%v), want 10", tt.name, d, err)
		}
		if _, err := os.Stat(dst + ".part"); !os.IsNotExist(err) {
			t.Errorf("%s: the temporary copy remains: %v", tt.name, err)
		}
	}
}

// TestUndecodableIsSaidSo: a file ffmpeg cannot read fails with
// ErrUndecodable, which the worker does not retry.
func TestUndecodableIsSaidSo(t *testing.T) {
	ff := find(t)
	path := filepath.Join(t.TempDir(), "junk.wav")
	os.WriteFile(path, []byte("RIFF\x00\x00\x00\x00WAVEjunkjunkjunk"), 0o600)
	if _, err := ff.Analyse(context.Background(), path); err == nil || !errors.Is(err, ErrUndecodable) {
		t.Fatalf("analyse junk: %v, want ErrUndecodable", err)
	}
}

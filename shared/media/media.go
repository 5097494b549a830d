// Package media runs ffmpeg over recordings: one decoding pass measures
// the loudness (EBU R128) and yields the samples of the waveform and the
// decoded length; a second pass makes the listening copy, normalised with
// what the first measured (two-pass loudnorm). ffmpeg runs at the lowest
// CPU and I/O priority, and dies with the process that started it.
package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"bandarchive/shared/waveform"
)

// The listening copy: AAC-LC in MP4, index first, so every current browser
// plays it and can seek before it has all of it; loudness-normalised to
// the level of streaming services, with headroom for lossy decoding.
const (
	TargetLUFS     = -16.0
	TargetTruePeak = -1.5
	targetLRA      = 11.0
	CopyMIMEType   = "audio/mp4"
	CopyExt        = "m4a"
	copyBitrate    = "192k"
	copyRate       = "48000"
)

// ErrUndecodable marks a file ffmpeg cannot read (or has no audio in):
// trying again will not help.
var ErrUndecodable = errors.New("ffmpeg cannot decode the file")

// Loudness is what EBU R128 measured of a recording.
type Loudness struct {
	Integrated float64 // LUFS
	TruePeak   float64 // dBTP
	Range      float64 // LU
	threshold  float64
	offset     float64
}

// Silent reports a recording too quiet to measure (digital silence):
// nothing to normalise.
func (l Loudness) Silent() bool { return l.Integrated <= -70 }

// Analysis is what the first pass learns of a recording.
type Analysis struct {
	Loudness Loudness
	Peaks    []byte  // the waveform (see package waveform)
	Seconds  float64 // the decoded length
}

// FFmpeg runs the ffmpeg and ffprobe binaries.
type FFmpeg struct {
	FFmpeg, FFprobe string
	// Nice is ffmpeg's CPU priority (0 to 19); above 0 it also runs in the
	// idle I/O class.
	Nice int
}

// Find returns the ffmpeg on PATH, or ok false where there is none (AWS
// Lambda).
func Find() (f FFmpeg, ok bool) {
	ff, err1 := exec.LookPath("ffmpeg")
	fp, err2 := exec.LookPath("ffprobe")
	if err1 != nil || err2 != nil {
		return FFmpeg{}, false
	}
	return FFmpeg{FFmpeg: ff, FFprobe: fp, Nice: 19}, true
}

// Analyse decodes src once: loudness, waveform and length.
func (f FFmpeg) Analyse(ctx context.Context, src string) (Analysis, error) {
	rate, err := f.sampleRate(ctx, src)
	if err != nil {
		return Analysis{}, err
	}
	graph := fmt.Sprintf("[0:a:0]asplit=2[m][w];[m]loudnorm=I=%g:TP=%g:LRA=%g:print_format=json,anullsink;"+
		"[w]aformat=sample_fmts=flt:channel_layouts=mono[wave]", TargetLUFS, TargetTruePeak, targetLRA)
	cmd := f.command(ctx, f.FFmpeg, "-nostdin", "-hide_banner", "-nostats", "-v", "info", "-i", src,
		"-filter_complex", graph, "-map", "[wave]", "-f", "f32le", "pipe:1")
	stderr := &tail{max: 64 << 10}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Analysis{}, err
	}
	if err := cmd.Start(); err != nil {
		return Analysis{}, fmt.Errorf("start ffmpeg: %w", err)
	}
	f.lower(cmd.Process.Pid)
	peaks, seconds, readErr := waveform.FromSamples(ctx, out, rate)
	if readErr != nil {
		io.Copy(io.Discard, out)
	}
	if err := f.wait(ctx, cmd, stderr); err != nil {
		return Analysis{}, err
	}
	if readErr != nil {
		return Analysis{}, readErr
	}
	l, err := parseLoudnorm(stderr.String())
	if err != nil {
		return Analysis{}, err
	}
	return Analysis{Loudness: l, Peaks: peaks, Seconds: seconds}, nil
}

// Transcode writes the listening copy of src to dst, normalised with a's
// measurement: to dst's temporary name first, synced, then renamed, so dst
// is whole or absent. A cut-off run leaves the temporary file, which the
// next run overwrites.
func (f FFmpeg) Transcode(ctx context.Context, src, dst string, a Analysis) error {
	part := dst + ".part"
	args := []string{"-nostdin", "-hide_banner", "-nostats", "-v", "error", "-y", "-i", src, "-map", "0:a:0", "-vn"}
	if l := a.Loudness; !l.Silent() {
		// loudnorm refuses measurements outside its ranges, which a
		// clipped, louder-than-0-LUFS file can give.
		clamp := func(v, lo, hi float64) float64 { return min(max(v, lo), hi) }
		args = append(args, "-af", fmt.Sprintf("loudnorm=I=%g:TP=%g:LRA=%g:measured_I=%g:measured_TP=%g:"+
			"measured_LRA=%g:measured_thresh=%g:offset=%g:linear=true:print_format=none",
			TargetLUFS, TargetTruePeak, targetLRA, clamp(l.Integrated, -99, 0), clamp(l.TruePeak, -99, 99),
			clamp(l.Range, 0, 99), clamp(l.threshold, -99, 0), clamp(l.offset, -99, 99)))
	}
	args = append(args, "-ar", copyRate, "-c:a", "aac", "-b:a", copyBitrate, "-movflags", "+faststart", "-f", "mp4", part)
	cmd := f.command(ctx, f.FFmpeg, args...)
	stderr := &tail{max: 16 << 10}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	f.lower(cmd.Process.Pid)
	if err := f.wait(ctx, cmd, stderr); err != nil {
		return err
	}
	return commit(part, dst)
}

// Measure reads the integrated loudness of a file (tests check copies).
func (f FFmpeg) Measure(ctx context.Context, path string) (Loudness, error) {
	cmd := f.command(ctx, f.FFmpeg, "-nostdin", "-hide_banner", "-nostats", "-v", "info", "-i", path,
		"-map", "0:a:0", "-af", "loudnorm=print_format=json", "-f", "null", "-")
	stderr := &tail{max: 64 << 10}
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return Loudness{}, fmt.Errorf("%w: %s", ErrUndecodable, stderr.last())
	}
	return parseLoudnorm(stderr.String())
}

// Duration is ffprobe's duration of a file, in seconds.
func (f FFmpeg) Duration(ctx context.Context, path string) (float64, error) {
	out, err := f.probe(ctx, path, "format=duration")
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(out, 64)
}

func (f FFmpeg) sampleRate(ctx context.Context, src string) (int, error) {
	out, err := f.probe(ctx, src, "stream=sample_rate")
	if err != nil {
		return 0, err
	}
	rate, err := strconv.Atoi(out)
	if err != nil || rate <= 0 {
		return 0, fmt.Errorf("%w: no audio stream with a sample rate", ErrUndecodable)
	}
	return rate, nil
}

// probe asks ffprobe for one entry of the first audio stream (or the
// format).
func (f FFmpeg) probe(ctx context.Context, path, entry string) (string, error) {
	cmd := f.command(ctx, f.FFprobe, "-v", "error", "-select_streams", "a:0", "-show_entries", entry,
		"-of", "default=noprint_wrappers=1:nokey=1", path)
	stderr := &tail{max: 4 << 10}
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrUndecodable, stderr.last())
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if first == "" {
		return "", fmt.Errorf("%w: no audio stream", ErrUndecodable)
	}
	return first, nil
}

// command makes an ffmpeg or ffprobe process that ends with ctx and with
// this process (a SIGKILLed worker leaves no ffmpeg behind).
func (f FFmpeg) command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// wait waits for cmd; a failure is the context's when it ended, else the
// file's, with ffmpeg's last words.
func (f FFmpeg) wait(ctx context.Context, cmd *exec.Cmd, stderr *tail) error {
	err := cmd.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("%w: %s", ErrUndecodable, stderr.last())
	}
	return nil
}

// lower puts a started process at priority Nice and, above 0, in the idle
// I/O class, so uploads and playback go first. Failing that, it runs at
// normal priority: slower for others, not wrong.
func (f FFmpeg) lower(pid int) {
	if f.Nice <= 0 {
		return
	}
	syscall.Setpriority(syscall.PRIO_PROCESS, pid, f.Nice)
	const whoProcess, classIdle = 1, 3 // ioprio_set(2): IOPRIO_WHO_PROCESS, IOPRIO_CLASS_IDLE
	syscall.Syscall(syscall.SYS_IOPRIO_SET, whoProcess, uintptr(pid), classIdle<<13)
}

// commit syncs part and renames it to dst.
func commit(part, dst string) error {
	f, err := os.Open(part)
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return fmt.Errorf("sync the listening copy: %w", err)
	}
	if err := os.Rename(part, dst); err != nil {
		return fmt.Errorf("store the listening copy: %w", err)
	}
	d, err := os.Open(filepath.Dir(dst))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// parseLoudnorm reads the JSON that loudnorm prints at the end of a run.
func parseLoudnorm(log string) (Loudness, error) {
	start := strings.LastIndex(log, "[Parsed_loudnorm")
	if start < 0 {
		return Loudness{}, fmt.Errorf("%w: no loudness measurement in ffmpeg's output", ErrUndecodable)
	}
	open := strings.Index(log[start:], "{")
	end := strings.Index(log[start:], "}")
	if open < 0 || end < open {
		return Loudness{}, fmt.Errorf("%w: a loudness measurement cut short", ErrUndecodable)
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(log[start+open:start+end+1]), &raw); err != nil {
		return Loudness{}, fmt.Errorf("read the loudness measurement: %w", err)
	}
	num := func(k string) float64 {
		v, err := strconv.ParseFloat(raw[k], 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) { // "-inf" for silence
			return -99
		}
		return v
	}
	return Loudness{
		Integrated: num("input_i"), TruePeak: num("input_tp"), Range: max(num("input_lra"), 0),
		threshold: num("input_thresh"), offset: num("target_offset"),
	}, nil
}

// tail keeps the last max bytes written to it: ffmpeg's log, bounded.
type tail struct {
	max int
	buf bytes.Buffer
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

func (t *tail) String() string { return t.buf.String() }

// last is the last non-empty line: usually what went wrong.
func (t *tail) last() string {
	lines := strings.Split(strings.TrimSpace(t.buf.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

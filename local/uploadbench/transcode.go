package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"bandarchive/shared/media"
)

// benchTranscode measures the worker's processing of a WAV of size bytes
// (44.1 kHz, 16-bit stereo): first alone, each pass as a multiple of real
// time; then runs pairs of one-request uploads (measureUpload), one idle
// and one while a processing of the same file runs at the worker's
// priority, alternating which goes first. It prints both and their ratio.
func benchTranscode(ctx context.Context, work string, size int64, runs int, measureUpload func(run int) (sample, error)) error {
	ff, ok := media.Find()
	if !ok {
		return errors.New("-transcode needs ffmpeg and ffprobe on PATH (Debian: apt-get install ffmpeg)")
	}
	src := filepath.Join(work, "transcode.wav")
	f, err := os.Create(src)
	if err != nil {
		return err
	}
	r, _ := wavFile(size)
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	seconds := float64(size) / (44100 * 4)
	dst := filepath.Join(work, "listen.m4a")
	process := func(ctx context.Context) (analyse, transcode time.Duration, err error) {
		start := time.Now()
		a, err := ff.Analyse(ctx, src)
		if err != nil {
			return 0, 0, err
		}
		analyse = time.Since(start)
		start = time.Now()
		err = ff.Transcode(ctx, src, dst, a)
		return analyse, time.Since(start), err
	}

	analyse, transcode, err := process(ctx)
	if err != nil {
		return fmt.Errorf("process alone: %w", err)
	}
	fmt.Printf("processing a %d MB WAV (%.0f min of audio), alone, at nice 19 and idle I/O priority:\n", size/1_000_000, seconds/60)
	fmt.Printf("  decoding pass (loudness, waveform, length) %6.1f s, %5.1f× real time\n", analyse.Seconds(), seconds/analyse.Seconds())
	fmt.Printf("  listening copy (AAC, normalised)           %6.1f s, %5.1f× real time\n", transcode.Seconds(), seconds/transcode.Seconds())
	fmt.Printf("  both                                       %6.1f s, %5.1f× real time\n\n", (analyse + transcode).Seconds(), seconds/(analyse+transcode).Seconds())

	var idle, busy, ratios []float64
	for i := range runs {
		order := []bool{false, true}
		if i%2 == 1 {
			order = []bool{true, false}
		}
		var got [2]float64
		for _, during := range order {
			var stop context.CancelFunc = func() {}
			done := make(chan error, 1)
			if during {
				var bctx context.Context
				bctx, stop = context.WithCancel(ctx)
				go func() { _, _, err := process(bctx); done <- err }()
				time.Sleep(2 * time.Second) // ffmpeg under way before the upload starts
			}
			m, err := measureUpload(2*i + btoi(during))
			stop()
			if during {
				if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
					return fmt.Errorf("processing during upload %d: %w", i+1, err)
				}
			}
			if err != nil {
				return err
			}
			got[btoi(during)] = m.mbps
			label := "idle"
			if during {
				label = "while processing"
			}
			fmt.Printf("run %d one request, %-16s %7.1f MB/s\n", i+1, label, m.mbps)
		}
		idle, busy = append(idle, got[0]), append(busy, got[1])
		ratios = append(ratios, got[1]/got[0])
	}
	fmt.Printf("\n%d MB upload, median of %d runs: idle %.1f MB/s, while processing %.1f MB/s, %.2f of idle (median of per-run ratios)\n",
		size/1_000_000, runs, median(idle), median(busy), median(ratios))
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

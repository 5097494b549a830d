package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"bandarchive/shared/audio"
	"bandarchive/shared/db"
	"bandarchive/shared/jobs"
	"bandarchive/shared/media"
	"bandarchive/shared/waveform"
)

// NoFFmpeg is the reason a recording has no listening copy where the
// worker runs without ffmpeg (AWS Lambda).
const NoFFmpeg = "No listening copy: this server has no ffmpeg. The original plays."

// processor runs jobs.Process.
type processor struct {
	river.WorkerDefaults[jobs.Process]
	cfg Config
}

func (p *processor) Timeout(*river.Job[jobs.Process]) time.Duration { return ProcessTimeout }

func (p *processor) Work(ctx context.Context, job *river.Job[jobs.Process]) error {
	id := job.Args.RecordingID
	err := p.process(ctx, id)
	if err == nil || errors.Is(err, db.ErrNoRecording) {
		return nil
	}
	if ctx.Err() != nil {
		return err // cut off: retried, and nothing was stored
	}
	// Deleted while it was processed: ffmpeg then fails on a file gone
	// from under it, in words of its own rather than fs.ErrNotExist.
	if ok, e := p.cfg.DB.RecordingExists(ctx, id); e == nil && !ok {
		return nil
	}
	if !errors.Is(err, media.ErrUndecodable) && job.Attempt < job.MaxAttempts {
		return err
	}
	reason := "Processing failed: " + err.Error()
	if errors.Is(err, media.ErrUndecodable) {
		reason = "ffmpeg cannot decode this file (" + strings.TrimPrefix(err.Error(), media.ErrUndecodable.Error()+": ") + ")."
	}
	if e := p.cfg.DB.FailProcessing(ctx, id, reason); e != nil {
		return errors.Join(err, e)
	}
	p.cfg.Log.Error("processing a recording failed for good", "recording_id", id, "err", err.Error())
	return river.JobCancel(err)
}

// process measures, draws and copies one recording.
func (p *processor) process(ctx context.Context, id uuid.UUID) error {
	f, err := p.cfg.DB.File(ctx, id)
	if err != nil {
		return err
	}
	src := p.cfg.Store.Path(id, f.Format)
	if !p.cfg.HasFFmpeg {
		return p.withoutFFmpeg(ctx, id, src, f.Format)
	}
	start := time.Now()
	a, err := p.cfg.FFmpeg.Analyse(ctx, src)
	if err != nil {
		return err
	}
	if err := p.cfg.FFmpeg.Transcode(ctx, src, p.cfg.Store.CopyPath(id, media.CopyExt), a); err != nil {
		return err
	}
	st, err := os.Stat(p.cfg.Store.CopyPath(id, media.CopyExt))
	if err != nil {
		return err
	}
	corrected, err := p.cfg.DB.FinishProcessing(ctx, id, db.Processed{
		Peaks: a.Peaks, Seconds: a.Seconds, CopyMIMEType: media.CopyMIMEType, CopyBytes: st.Size(),
		Measured: !a.Loudness.Silent(), LoudnessLUFS: a.Loudness.Integrated, TruePeakDBTP: a.Loudness.TruePeak, RangeLU: a.Loudness.Range,
	})
	if err != nil {
		return err
	}
	p.cfg.Log.Info("recording processed", "recording_id", id, "seconds", a.Seconds,
		"loudness_lufs", a.Loudness.Integrated, "duration_corrected", corrected, "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// withoutFFmpeg draws the waveform with the built-in decoders and records
// that there is no listening copy.
func (p *processor) withoutFFmpeg(ctx context.Context, id uuid.UUID, src, format string) error {
	file, err := os.Open(src)
	if err != nil {
		return err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return err
	}
	var peaks []byte
	if f, ok := audio.FormatByName(format); ok {
		if info, err := audio.Probe(file, st.Size(), f); err == nil {
			peaks, err = waveform.Compute(ctx, file, st.Size(), f, info)
			if err != nil && !errors.Is(err, waveform.ErrUnsupported) {
				return fmt.Errorf("waveform of %s: %w", id, err)
			}
		}
	}
	_, err = p.cfg.DB.FinishProcessing(ctx, id, db.Processed{Peaks: peaks, Error: NoFFmpeg})
	return err
}

// Package worker runs the archive's background jobs (package jobs) from
// the queue in PostgreSQL: sign-in mails and the processing of recordings.
// It runs as its own process self-hosted, inside the dev server, and as a
// function on AWS Lambda (Drain).
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"bandarchive/shared/db"
	"bandarchive/shared/jobs"
	"bandarchive/shared/media"
	"bandarchive/shared/signin"
	"bandarchive/shared/storage"
)

// Bounds of the work.
const (
	// MailWorkers deliveries run at once: each mostly waits on Mailersend.
	MailWorkers = 4
	// One recording is processed at a time per worker: ffmpeg takes a
	// core, and uploads and playback must stay responsive beside it.
	MediaWorkers = 1
	// ProcessTimeout bounds one processing of a recording (a 500 MB WAV
	// at idle priority on a busy server).
	ProcessTimeout = time.Hour
	// DeliveryTimeout bounds one delivery attempt, Mailersend's own
	// retries included.
	DeliveryTimeout = 90 * time.Second
	// stopGrace is how long Stop lets running jobs finish before it
	// cancels them; a cancelled job is retried, never half-applied.
	stopGrace = 10 * time.Second
)

// Config is what the worker needs.
type Config struct {
	DB       *db.DB
	Store    *storage.Store
	Delivery *signin.Delivery
	// FFmpeg makes listening copies and waveforms; without it (HasFFmpeg
	// false, as on Lambda) waveforms come from the built-in decoders and
	// there is no listening copy.
	FFmpeg    media.FFmpeg
	HasFFmpeg bool
	Log       *slog.Logger
	// ID names this worker in the queue, the same across its restarts:
	// at start it takes back the jobs its previous life was running. No
	// two live workers may share one.
	ID string
}

// Worker works the job queue.
type Worker struct {
	cfg    Config
	client *river.Client[pgx.Tx]
}

// New prepares a worker; Start starts it.
func New(cfg Config) (*Worker, error) {
	if cfg.ID == "" {
		host, _ := os.Hostname()
		cfg.ID = "worker-" + host
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &deliverer{cfg: cfg})
	river.AddWorker(workers, &processor{cfg: cfg})
	client, err := river.NewClient(riverpgxv5.New(cfg.DB.Pool()), &river.Config{
		ID:      cfg.ID,
		Workers: workers,
		Queues: map[string]river.QueueConfig{
			jobs.QueueMail:  {MaxWorkers: MailWorkers},
			jobs.QueueMedia: {MaxWorkers: MediaWorkers},
		},
		// A job whose worker vanished (another host, never restarted) is
		// run again once it has certainly timed out.
		RescueStuckJobsAfter: ProcessTimeout + 15*time.Minute,
		Logger:               cfg.Log.With("component", "queue"),
	})
	if err != nil {
		return nil, fmt.Errorf("prepare the worker: %w", err)
	}
	return &Worker{cfg: cfg, client: client}, nil
}

// Start takes back what this worker's previous life left running, gives
// every recording still pending a job, and starts working.
func (w *Worker) Start(ctx context.Context) error {
	n, err := w.cfg.DB.ReclaimJobs(ctx, w.cfg.ID)
	if err != nil {
		return err
	}
	if n > 0 {
		w.cfg.Log.Info("took back jobs cut off by this worker's last stop", "jobs", n)
	}
	queued, err := w.cfg.DB.EnqueuePending(ctx)
	if err != nil {
		return err
	}
	if queued > 0 {
		w.cfg.Log.Info("recordings queued for processing", "recordings", queued)
	}
	if err := w.client.Start(ctx); err != nil {
		return fmt.Errorf("start the worker: %w", err)
	}
	w.cfg.Log.Info("worker started", "id", w.cfg.ID, "ffmpeg", w.cfg.HasFFmpeg)
	return nil
}

// Stop lets running jobs finish for a few seconds, then cancels them:
// they are retried, by this worker's next life or another.
func (w *Worker) Stop(ctx context.Context) error {
	grace, cancel := context.WithTimeout(ctx, stopGrace)
	defer cancel()
	if err := w.client.Stop(grace); err == nil {
		return nil
	}
	return w.client.StopAndCancel(ctx)
}

// Healthy reports whether the worker can work: it runs, and the database
// answers.
func (w *Worker) Healthy(ctx context.Context) error {
	select {
	case <-w.client.Stopped():
		return errors.New("the worker has stopped")
	default:
	}
	return w.cfg.DB.Ping(ctx)
}

// Drain works until no job is due, then stops: the worker as a Lambda
// function, invoked after each enqueue and on a schedule for retries.
func (w *Worker) Drain(ctx context.Context) error {
	if err := w.Start(ctx); err != nil {
		return err
	}
	defer w.Stop(context.WithoutCancel(ctx))
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		due, err := w.cfg.DB.JobsDue(ctx)
		if err != nil {
			return err
		}
		if due == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

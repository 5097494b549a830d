package db

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"bandarchive/shared/errs"
	"bandarchive/shared/jobs"
)

// Processed is what processing made of a recording.
type Processed struct {
	Peaks []byte
	// Seconds, when non-zero, is the decoded length: it replaces the
	// length read from the headers at upload when the two disagree.
	Seconds float64
	// The copy, when one was made.
	CopyMIMEType string
	CopyBytes    int64
	// The original's loudness, when measured.
	Measured                            bool
	LoudnessLUFS, TruePeakDBTP, RangeLU float64
	// Error, when set, fails the processing with this reason although
	// something (say the waveform) was made.
	Error string
}

// durationTolerance is how far the decoded length may be from the stored
// one before it replaces it: 1%, or 0.1 s where that is larger.
const durationTolerance = 0.01

// FinishProcessing stores what processing made and marks the recording
// ready (or failed, with p.Error). It reports whether the decoded length
// replaced the stored one.
func (db *DB) FinishProcessing(ctx context.Context, id uuid.UUID, p Processed) (corrected bool, err error) {
	state := Ready
	var reason, mime *string
	var bytes *int64
	if p.Error != "" {
		state, reason = Failed, &p.Error
	}
	if p.CopyMIMEType != "" {
		mime, bytes = &p.CopyMIMEType, &p.CopyBytes
	}
	var lufs, tp, lra *float64
	if p.Measured {
		lufs, tp, lra = &p.LoudnessLUFS, &p.TruePeakDBTP, &p.RangeLU
	}
	var stored *float64
	err = db.q.QueryRow(ctx, `UPDATE recordings SET processing_state = $2, processing_error = $3,
		peaks = coalesce($4, peaks), listen_mime_type = $5, listen_bytes = $6,
		loudness_lufs = $7, true_peak_dbtp = $8, loudness_range_lu = $9
		WHERE id = $1 RETURNING duration_seconds`, id, state, reason, p.Peaks, mime, bytes, lufs, tp, lra).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNoRecording
	}
	if err != nil {
		return false, fmt.Errorf("store processing of %s: %w", id, err)
	}
	if p.Seconds <= 0 || (stored != nil && math.Abs(*stored-p.Seconds) <= max(0.1, durationTolerance**stored)) {
		return false, nil
	}
	if _, err := db.q.Exec(ctx, `UPDATE recordings SET duration_seconds = $2 WHERE id = $1`, id, p.Seconds); err != nil {
		return false, fmt.Errorf("correct duration of %s: %w", id, err)
	}
	return true, nil
}

// FailProcessing marks a recording's processing failed, with the reason a
// person reads.
func (db *DB) FailProcessing(ctx context.Context, id uuid.UUID, reason string) error {
	_, err := db.q.Exec(ctx, `UPDATE recordings SET processing_state = 'failed', processing_error = $2
		WHERE id = $1`, id, Text(reason, 500))
	if err != nil {
		return fmt.Errorf("mark processing of %s failed: %w", id, err)
	}
	return nil
}

// RetryProcessing processes a failed recording again: it becomes pending
// and gets a new job, in one transaction. A recording that did not fail
// is a conflict.
func (db *DB) RetryProcessing(ctx context.Context, id uuid.UUID) error {
	return db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var state string
		err := tx.QueryRow(ctx, `SELECT processing_state FROM recordings WHERE id = $1 FOR UPDATE`, id).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoRecording
		}
		if err != nil {
			return err
		}
		if state != Failed {
			return errs.Errorf(errs.Conflict, "Only a recording whose processing failed can be processed again; this one is %s.", state)
		}
		if _, err := tx.Exec(ctx, `UPDATE recordings SET processing_state = 'pending', processing_error = NULL
			WHERE id = $1`, id); err != nil {
			return err
		}
		_, err = db.jobs.InsertTx(ctx, tx, jobs.Process{RecordingID: id}, nil)
		return err
	})
}

// EnqueuePending gives every pending recording a processing job, where it
// has none waiting or running (the job's uniqueness drops the others):
// recordings archived before processing existed, or whose job was lost
// with its queue. It returns how many jobs it inserted.
func (db *DB) EnqueuePending(ctx context.Context) (int, error) {
	rows, err := db.q.Query(ctx, `SELECT id FROM recordings WHERE processing_state = 'pending'`)
	if err != nil {
		return 0, fmt.Errorf("list pending recordings: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("list pending recordings: %w", err)
	}
	n := 0
	for _, id := range ids {
		res, err := db.jobs.Insert(ctx, jobs.Process{RecordingID: id}, nil)
		if err != nil {
			return n, fmt.Errorf("enqueue processing of %s: %w", id, unavailable(err))
		}
		if !res.UniqueSkippedAsDuplicate {
			n++
		}
	}
	return n, nil
}

// CopyFile is what serving a listening copy needs, in one query (a
// player asks for many ranges).
type CopyFile struct {
	Status     string
	MIMEType   string
	Bytes      int64
	SHA256     []byte // the original's: the copy changes when it does
	UploadedAt time.Time
}

// Copy returns the state of a recording's listening copy.
func (db *DB) Copy(ctx context.Context, id uuid.UUID) (CopyFile, error) {
	var c CopyFile
	var mime *string
	var n *int64
	err := db.q.QueryRow(ctx, `SELECT processing_state, listen_mime_type, listen_bytes, sha256, uploaded_at
		FROM recordings WHERE id = $1`, id).Scan(&c.Status, &mime, &n, &c.SHA256, &c.UploadedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return CopyFile{}, ErrNoRecording
	}
	if err != nil {
		return CopyFile{}, fmt.Errorf("find the listening copy of %s: %w", id, err)
	}
	if mime != nil && n != nil {
		c.MIMEType, c.Bytes = *mime, *n
	}
	return c, nil
}

// Jobs is the queue's client for inserting jobs outside the store's own
// transactions (the worker's tests, say).
func (db *DB) Jobs() *river.Client[pgx.Tx] { return db.jobs }

// ReclaimJobs makes the jobs that worker id was running when it last
// stopped available again (a SIGKILL leaves them "running"), so its next
// life runs them at once. It returns how many there were.
func (db *DB) ReclaimJobs(ctx context.Context, worker string) (int64, error) {
	tag, err := db.q.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE state = 'running' AND attempted_by[cardinality(attempted_by)] = $1::text`, worker)
	if err != nil {
		return 0, fmt.Errorf("reclaim jobs of %s: %w", worker, err)
	}
	return tag.RowsAffected(), nil
}

// JobsDue counts the jobs waiting to run now or running.
func (db *DB) JobsDue(ctx context.Context) (int, error) {
	var n int
	err := db.q.QueryRow(ctx, `SELECT count(*) FROM river_job
		WHERE state = 'running' OR (state IN ('available', 'retryable') AND scheduled_at <= now())`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count due jobs: %w", err)
	}
	return n, nil
}

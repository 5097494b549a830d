package db

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"bandarchive/shared/jobs"
)

// DateLayout is how recorded dates travel in JSON and forms.
const DateLayout = "2006-01-02"

// Recording is one recording with the band's scores of it.
type Recording struct {
	ID               uuid.UUID
	Title            string
	OriginalFilename string
	Format           string
	MIMEType         string
	DurationSeconds  *float64
	FileSizeBytes    int64
	SHA256           []byte
	UploadedAt       time.Time
	UploadedBy       uuid.UUID
	UploaderName     string
	RecordedDate     *time.Time // a date; UTC midnight
	Venue            string
	Source           string
	Notes            string
	// Peaks is the waveform, one byte (0–255) per column; nil if unknown.
	Peaks []byte
	// Copy is the listening copy and the original's measured loudness.
	Copy ListeningCopy

	Scores ScoreSummary
}

// The processing states of a recording: its job is waiting or running,
// finished, or gave up (Error says why).
const (
	Pending = "pending"
	Ready   = "ready"
	Failed  = "failed"
)

// ListeningCopy is what processing made of a recording: the copy that
// every browser plays, and the loudness of the original as measured (the
// copy's own are the targets).
type ListeningCopy struct {
	Status          string   `json:"status"`
	Error           *string  `json:"error"`
	MIMEType        *string  `json:"mime_type"`
	Bytes           *int64   `json:"bytes"`
	LoudnessLUFS    *float32 `json:"loudness_lufs"`
	TruePeakDBTP    *float32 `json:"true_peak_dbtp"`
	LoudnessRangeLU *float32 `json:"loudness_range_lu"`
}

// ScoreSummary is what the archive shows beside a recording: "5 of 7 have
// scored this", their average, and my own score.
type ScoreSummary struct {
	Average *float64 `json:"average"`
	Count   int      `json:"count"`
	Members int      `json:"members"`
	MyScore *int     `json:"my_score"`
}

// MarshalJSON writes the recording as the API shows it: dates as
// YYYY-MM-DD, the hash in hex, the scores inline.
func (r Recording) MarshalJSON() ([]byte, error) {
	var recorded *string
	if r.RecordedDate != nil {
		s := r.RecordedDate.Format(DateLayout)
		recorded = &s
	}
	return json.Marshal(struct {
		ID               uuid.UUID     `json:"id"`
		Title            string        `json:"title"`
		OriginalFilename string        `json:"original_filename"`
		Format           string        `json:"format"`
		MIMEType         string        `json:"mime_type"`
		DurationSeconds  *float64      `json:"duration_seconds"`
		FileSizeBytes    int64         `json:"file_size_bytes"`
		SHA256           string        `json:"sha256"`
		UploadedAt       time.Time     `json:"uploaded_at"`
		UploadedBy       uuid.UUID     `json:"uploaded_by"`
		UploaderName     string        `json:"uploaded_by_name"`
		RecordedDate     *string       `json:"recorded_date"`
		Venue            string        `json:"venue"`
		Source           string        `json:"source"`
		Notes            string        `json:"notes"`
		Peaks            []byte        `json:"peaks"` // base64
		Copy             ListeningCopy `json:"listening_copy"`
		ScoreSummary
	}{r.ID, r.Title, r.OriginalFilename, r.Format, r.MIMEType, r.DurationSeconds, r.FileSizeBytes,
		hex.EncodeToString(r.SHA256), r.UploadedAt, r.UploadedBy, r.UploaderName, recorded,
		r.Venue, r.Source, r.Notes, r.Peaks, r.Copy, r.Scores})
}

// recordingSelect reads recordings with their score summary for viewer $1,
// in one query: the members count, the average and count of active
// members' scores, and the viewer's own score. The scores are aggregated in
// one grouped pass (joined by hash), not per row: with thousands of
// recordings that is several times faster, and a filter on r.id still
// reaches inside the grouping. A query that needs more columns puts them
// between recordingColumns and recordingFrom.
const recordingSelect = `SELECT ` + recordingColumns + recordingFrom

const recordingColumns = `r.id, r.title, r.original_filename, r.format, r.mime_type, r.duration_seconds,
	r.file_size_bytes, r.sha256, r.uploaded_at, r.uploaded_by, u.display_name, r.recorded_date,
	r.venue, r.source, r.notes, r.peaks, r.processing_state, r.processing_error, r.listen_mime_type,
	r.listen_bytes, r.loudness_lufs, r.true_peak_dbtp, r.loudness_range_lu,
	s.average, coalesce(s.count, 0), m.members, mine.score`

const recordingFrom = `
FROM recordings r
JOIN users u ON u.id = r.uploaded_by
CROSS JOIN (SELECT count(*) AS members FROM users WHERE disabled_at IS NULL) m
LEFT JOIN (
	SELECT sc.recording_id, avg(sc.score)::float8 AS average, count(*) AS count
	FROM scores sc JOIN users su ON su.id = sc.user_id AND su.disabled_at IS NULL
	GROUP BY sc.recording_id
) s ON s.recording_id = r.id
LEFT JOIN scores mine ON mine.recording_id = r.id AND mine.user_id = $1`

// scanRecording reads a row of recordingSelect, and extra columns the
// query adds after it into extra.
func scanRecording(row pgx.Row, extra ...any) (Recording, error) {
	var r Recording
	var my *int16
	dest := []any{&r.ID, &r.Title, &r.OriginalFilename, &r.Format, &r.MIMEType, &r.DurationSeconds,
		&r.FileSizeBytes, &r.SHA256, &r.UploadedAt, &r.UploadedBy, &r.UploaderName, &r.RecordedDate,
		&r.Venue, &r.Source, &r.Notes, &r.Peaks, &r.Copy.Status, &r.Copy.Error, &r.Copy.MIMEType,
		&r.Copy.Bytes, &r.Copy.LoudnessLUFS, &r.Copy.TruePeakDBTP, &r.Copy.LoudnessRangeLU,
		&r.Scores.Average, &r.Scores.Count, &r.Scores.Members, &my}
	err := row.Scan(append(dest, extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return Recording{}, ErrNoRecording
	}
	if my != nil {
		v := int(*my)
		r.Scores.MyScore = &v
	}
	return r, err
}

// Recording returns one recording as viewer sees it.
func (db *DB) Recording(ctx context.Context, id, viewer uuid.UUID) (Recording, error) {
	r, err := scanRecording(db.q.QueryRow(ctx, recordingSelect+` WHERE r.id = $2`, viewer, id))
	if err != nil && !errors.Is(err, ErrNoRecording) {
		return Recording{}, fmt.Errorf("find recording %s: %w", id, err)
	}
	return r, err
}

// RecordingFile is what playback needs of a recording: its file, and
// nothing of the scores, since a browser asks for many ranges while it
// plays.
type RecordingFile struct {
	ID               uuid.UUID
	Format           string
	MIMEType         string
	SHA256           []byte
	OriginalFilename string
	UploadedAt       time.Time
}

// File returns the file facts of a recording.
func (db *DB) File(ctx context.Context, id uuid.UUID) (RecordingFile, error) {
	f := RecordingFile{ID: id}
	err := db.q.QueryRow(ctx, `SELECT format, mime_type, sha256, original_filename, uploaded_at
		FROM recordings WHERE id = $1`, id).Scan(&f.Format, &f.MIMEType, &f.SHA256, &f.OriginalFilename, &f.UploadedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return RecordingFile{}, ErrNoRecording
	}
	if err != nil {
		return RecordingFile{}, fmt.Errorf("find file of recording %s: %w", id, err)
	}
	return f, nil
}

// CheckNew returns the conflict naming the recording that already has
// this content hash, or nil when there is none.
func (db *DB) CheckNew(ctx context.Context, sum []byte) error {
	var id uuid.UUID
	err := db.q.QueryRow(ctx, `SELECT id FROM recordings WHERE sha256 = $1`, sum).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("find recording by hash: %w", err)
	}
	return duplicate(id)
}

// InsertRecording stores a new recording row. A row with the same SHA-256
// already there gives the conflict of CheckNew, also when two identical uploads
// race (the unique index decides).
//
// Its processing job is enqueued in the same transaction: no recording
// is ever left without one.
func (db *DB) InsertRecording(ctx context.Context, r Recording) error {
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO recordings (id, title, original_filename, format, mime_type,
			duration_seconds, file_size_bytes, sha256, uploaded_at, uploaded_by, recorded_date, venue, source, notes)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			r.ID, r.Title, r.OriginalFilename, r.Format, r.MIMEType, r.DurationSeconds, r.FileSizeBytes,
			r.SHA256, r.UploadedAt, r.UploadedBy, r.RecordedDate, r.Venue, r.Source, r.Notes)
		if err != nil {
			return err
		}
		_, err = db.jobs.InsertTx(ctx, tx, jobs.Process{RecordingID: r.ID}, nil)
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "recordings_sha256_key" {
		if err := db.CheckNew(ctx, r.SHA256); err != nil {
			return err
		}
		return fmt.Errorf("insert recording: duplicate, then gone: %w", err)
	}
	if err != nil {
		return fmt.Errorf("insert recording: %w", err)
	}
	return nil
}

// RecordingEdit is a change of the editable fields; nil fields stay.
type RecordingEdit struct {
	Title        *string
	RecordedDate **time.Time // set to a nil *time.Time to clear
	Venue        *string
	Source       *string
	Notes        *string
}

// UpdateRecording applies e in one statement.
func (db *DB) UpdateRecording(ctx context.Context, id uuid.UUID, e RecordingEdit) error {
	var recorded *time.Time
	if e.RecordedDate != nil {
		recorded = *e.RecordedDate
	}
	tag, err := db.q.Exec(ctx, `UPDATE recordings SET
		title = coalesce($2, title),
		recorded_date = CASE WHEN $3 THEN $4::date ELSE recorded_date END,
		venue = coalesce($5, venue),
		source = coalesce($6, source),
		notes = coalesce($7, notes)
		WHERE id = $1`, id, e.Title, e.RecordedDate != nil, recorded, e.Venue, e.Source, e.Notes)
	if err != nil {
		return fmt.Errorf("update recording %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNoRecording
	}
	return nil
}

// SetPeaks stores a recording's waveform.
func (db *DB) SetPeaks(ctx context.Context, id uuid.UUID, peaks []byte) error {
	if _, err := db.q.Exec(ctx, `UPDATE recordings SET peaks = $2 WHERE id = $1`, id, peaks); err != nil {
		return fmt.Errorf("store waveform of %s: %w", id, err)
	}
	return nil
}

// DeleteRecording removes the row and, by cascade, its scores. whileLocked
// runs after the row is deleted but before the deletion commits, while the
// row is locked: the files are moved aside there. So a second deletion of
// the same recording waits for the first and then finds nothing
// (ErrNoRecording), and when whileLocked fails the row stays.
func (db *DB) DeleteRecording(ctx context.Context, id uuid.UUID, whileLocked func() error) error {
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM recordings WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNoRecording
		}
		return whileLocked()
	})
	if err != nil && !errors.Is(err, ErrNoRecording) {
		return fmt.Errorf("delete recording %s: %w", id, err)
	}
	return err
}

// RecordingExists reports whether a row with id exists; the storage sweep
// uses it to tell interrupted deletions from finished ones.
func (db *DB) RecordingExists(ctx context.Context, id uuid.UUID) (bool, error) {
	var ok bool
	err := db.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM recordings WHERE id = $1)`, id).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check recording %s: %w", id, err)
	}
	return ok, nil
}

package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"bandarchive/shared/errs"
)

// ErrNoUpload is a resumable upload that does not exist, has expired, or
// belongs to another member: they are told apart to nobody.
var ErrNoUpload = errs.Errorf(errs.NotFound, "There is no such upload; it may have expired. Start it again.")

// Upload is one resumable upload.
type Upload struct {
	ID       uuid.UUID
	OwnerID  uuid.UUID
	Length   int64
	Offset   int64
	Metadata map[string]string
	// Format is "" until the first bytes have decided it.
	Format    string
	HashState []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	// FinishedAt is set once the upload became a recording, or was found
	// to duplicate one (Duplicate); RecordingID names it.
	FinishedAt  *time.Time
	RecordingID *uuid.UUID
	Duplicate   bool
}

// UploadBounds limit what one member may have unfinished at once, so
// abandoned uploads cannot fill the disk.
type UploadBounds struct {
	Count int
	Bytes int64
}

const uploadColumns = `id, owner_id, length, "offset", metadata, coalesce(format, ''), hash_state,
	created_at, expires_at, finished_at, recording_id, duplicate`

func scanUpload(row pgx.Row) (Upload, error) {
	var u Upload
	err := row.Scan(&u.ID, &u.OwnerID, &u.Length, &u.Offset, &u.Metadata, &u.Format, &u.HashState,
		&u.CreatedAt, &u.ExpiresAt, &u.FinishedAt, &u.RecordingID, &u.Duplicate)
	if errors.Is(err, pgx.ErrNoRows) {
		return Upload{}, ErrNoUpload
	}
	return u, err
}

// CreateUpload stores a new upload unless its owner would have more
// unfinished (and unexpired) uploads, or bytes, than bounds allow. An
// advisory lock on the owner makes the count exact across processes.
func (db *DB) CreateUpload(ctx context.Context, u Upload, bounds UploadBounds) error {
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('uploads:' || $1::text, 0))`, u.OwnerID); err != nil {
			return err
		}
		var n int
		var bytes int64
		if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(length), 0) FROM uploads
			WHERE owner_id = $1 AND finished_at IS NULL AND expires_at > $2`, u.OwnerID, u.CreatedAt).Scan(&n, &bytes); err != nil {
			return err
		}
		if n >= bounds.Count {
			return errs.Errorf(errs.RateLimited, "You have %d unfinished uploads. Finish or cancel one before starting another.", n)
		}
		if bytes+u.Length > bounds.Bytes {
			return errs.Errorf(errs.RateLimited, "Your unfinished uploads would hold more than the archive keeps for one member at once. Finish or cancel one first.")
		}
		_, err := tx.Exec(ctx, `INSERT INTO uploads (id, owner_id, length, metadata, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, u.ID, u.OwnerID, u.Length, u.Metadata, u.CreatedAt, u.ExpiresAt)
		return err
	})
	if err != nil && errs.As(err) == nil {
		return fmt.Errorf("create upload: %w", err)
	}
	return err
}

// UploadOf returns the upload id of owner that has not expired at now.
// A finished upload stays readable until it expires, so a client that lost
// the last answer can ask again.
func (db *DB) UploadOf(ctx context.Context, id, owner uuid.UUID, now time.Time) (Upload, error) {
	u, err := scanUpload(db.q.QueryRow(ctx, `SELECT `+uploadColumns+` FROM uploads
		WHERE id = $1 AND owner_id = $2 AND expires_at > $3`, id, owner, now))
	if err != nil && !errors.Is(err, ErrNoUpload) {
		return Upload{}, fmt.Errorf("find upload %s: %w", id, err)
	}
	return u, err
}

// AdvanceUpload records that the bytes up to offset are on disk, with the
// hash state after them and the format once known. It holds only if the
// upload is still at from: otherwise someone else moved it (a conflict).
func (db *DB) AdvanceUpload(ctx context.Context, id uuid.UUID, from, offset int64, format string, hashState []byte, expires time.Time) error {
	tag, err := db.q.Exec(ctx, `UPDATE uploads SET "offset" = $3, format = NULLIF($4, ''), hash_state = $5, expires_at = $6
		WHERE id = $1 AND "offset" = $2 AND finished_at IS NULL`, id, from, offset, format, hashState, expires)
	if err != nil {
		return fmt.Errorf("advance upload %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return errs.Errorf(errs.Conflict, "The upload moved on meanwhile; ask for its offset and continue from there.")
	}
	return nil
}

// FinishUpload records the recording a complete upload became (or the one
// that already had its bytes), keeping the row until keepUntil so the
// answer can be asked for again.
func (db *DB) FinishUpload(ctx context.Context, id, recording uuid.UUID, duplicate bool, now, keepUntil time.Time) error {
	if _, err := db.q.Exec(ctx, `UPDATE uploads SET finished_at = $2, recording_id = $3, duplicate = $4,
		expires_at = $5, hash_state = NULL WHERE id = $1`, id, now, recording, duplicate, keepUntil); err != nil {
		return fmt.Errorf("finish upload %s: %w", id, err)
	}
	return nil
}

// DeleteUpload removes an upload's row (termination, refusal, expiry).
func (db *DB) DeleteUpload(ctx context.Context, id uuid.UUID) error {
	if _, err := db.q.Exec(ctx, `DELETE FROM uploads WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete upload %s: %w", id, err)
	}
	return nil
}

// UploadLive reports whether the bytes of upload id are still wanted at
// now: it exists, is unfinished and has not expired. The sweep removes the
// partial files of the others.
func (db *DB) UploadLive(ctx context.Context, id uuid.UUID, now time.Time) (bool, error) {
	var ok bool
	err := db.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM uploads
		WHERE id = $1 AND finished_at IS NULL AND expires_at > $2)`, id, now).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check upload %s: %w", id, err)
	}
	return ok, nil
}

// PruneUploads deletes the rows of uploads expired at now.
func (db *DB) PruneUploads(ctx context.Context, now time.Time) error {
	if _, err := db.q.Exec(ctx, `DELETE FROM uploads WHERE expires_at <= $1`, now); err != nil {
		return fmt.Errorf("prune uploads: %w", err)
	}
	return nil
}

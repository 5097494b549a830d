package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
)

// SetScore sets or changes user's score of a recording (an upsert, so two
// members scoring at once lose nothing, and one member's repeated clicks
// leave the last score). ErrNoRecording when the recording does not exist.
func (db *DB) SetScore(ctx context.Context, recording, user uuid.UUID, score int, now time.Time) error {
	_, err := db.q.Exec(ctx, `INSERT INTO scores (recording_id, user_id, score, scored_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (recording_id, user_id) DO UPDATE SET score = EXCLUDED.score, scored_at = EXCLUDED.scored_at`,
		recording, user, score, now)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" && pgErr.ConstraintName == "scores_recording_id_fkey" {
		return ErrNoRecording
	}
	if err != nil {
		return fmt.Errorf("score recording %s: %w", recording, err)
	}
	return nil
}

// DeleteScore removes user's score of a recording; removing a score that
// is not there is not an error.
func (db *DB) DeleteScore(ctx context.Context, recording, user uuid.UUID) error {
	if _, err := db.q.Exec(ctx, `DELETE FROM scores WHERE recording_id = $1 AND user_id = $2`, recording, user); err != nil {
		return fmt.Errorf("remove score of %s: %w", recording, err)
	}
	return nil
}

package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// touchEvery limits last_seen_at writes to one per session per interval.
const touchEvery = 5 * time.Minute

// SessionUser returns the active user behind a session token hash: the
// session must be unexpired and the user not disabled, checked on every
// request so revocation is immediate.
func (db *DB) SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (User, error) {
	var sessionID uuid.UUID
	var lastSeen time.Time
	var u User
	err := db.q.QueryRow(ctx, `SELECT s.id, s.last_seen_at, `+userColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL`, tokenHash, now).
		Scan(&sessionID, &lastSeen, &u.ID, &u.Email, &u.DisplayName, &u.Role, &u.CreatedAt, &u.DisabledAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNoSession
	}
	if err != nil {
		return User{}, fmt.Errorf("find session: %w", err)
	}
	if now.Sub(lastSeen) > touchEvery {
		if _, err := db.q.Exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1`, sessionID, now); err != nil {
			return User{}, fmt.Errorf("touch session: %w", err)
		}
	}
	return u, nil
}

// DeleteSession removes the session with this token hash (logout).
func (db *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := db.q.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// PruneExpired deletes expired sessions and login links older than a day;
// the start-up of a function calls it so the tables stay small.
func (db *DB) PruneExpired(ctx context.Context, now time.Time) error {
	if _, err := db.q.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, now); err != nil {
		return fmt.Errorf("prune sessions: %w", err)
	}
	if _, err := db.q.Exec(ctx, `DELETE FROM login_tokens WHERE created_at < $1`, now.Add(-24*time.Hour)); err != nil {
		return fmt.Errorf("prune login links: %w", err)
	}
	return nil
}

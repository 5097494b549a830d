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

// Device is one signed-in session as its member sees it. The id names
// the session but signs nobody in: only the token's hash does, and that
// never leaves the database.
type Device struct {
	ID         uuid.UUID `json:"id"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// Current is the session of the request that asked.
	Current bool `json:"current"`
}

// Devices lists a user's live sessions, the one whose token hash is
// current first, then the most recently seen.
func (db *DB) Devices(ctx context.Context, user uuid.UUID, current []byte, now time.Time) ([]Device, error) {
	rows, err := db.q.Query(ctx, `SELECT id, user_agent, ip, created_at, last_seen_at, token_hash = $2
		FROM sessions WHERE user_id = $1 AND expires_at > $3
		ORDER BY token_hash = $2 DESC, last_seen_at DESC, id`, user, current, now)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	devices, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Device, error) {
		var d Device
		err := r.Scan(&d.ID, &d.UserAgent, &d.IP, &d.CreatedAt, &d.LastSeenAt, &d.Current)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return devices, nil
}

// ErrNoDevice: no session of the member's has that id.
var ErrNoDevice = errs.Errorf(errs.NotFound, "None of your signed-in devices has that id.")

// SignOutDevice ends one of user's sessions by its id and reports whether
// it was the one whose token hash is current. Another member's session is
// ErrNoDevice, as one that does not exist.
func (db *DB) SignOutDevice(ctx context.Context, user, id uuid.UUID, current []byte) (bool, error) {
	var was bool
	err := db.q.QueryRow(ctx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2 RETURNING token_hash = $3`,
		id, user, current).Scan(&was)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNoDevice
	}
	if err != nil {
		return false, fmt.Errorf("sign out device %s: %w", id, err)
	}
	return was, nil
}

// SignOutOthers ends every session of user's but the current one and
// returns how many ended.
func (db *DB) SignOutOthers(ctx context.Context, user uuid.UUID, current []byte) (int, error) {
	tag, err := db.q.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, user, current)
	if err != nil {
		return 0, fmt.Errorf("sign out other devices: %w", err)
	}
	return int(tag.RowsAffected()), nil
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

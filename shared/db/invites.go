package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Invite is a single-use link to join the archive.
type Invite struct {
	ID        uuid.UUID  `json:"id"`
	CreatedBy uuid.UUID  `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
	UsedBy    *uuid.UUID `json:"used_by,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Usable reports whether the invite can still be used at now.
func (i Invite) Usable(now time.Time) bool {
	return i.UsedAt == nil && i.RevokedAt == nil && now.Before(i.ExpiresAt)
}

const inviteColumns = `id, created_by, created_at, expires_at, used_at, used_by, revoked_at`

func scanInvite(row pgx.Row) (Invite, error) {
	var i Invite
	err := row.Scan(&i.ID, &i.CreatedBy, &i.CreatedAt, &i.ExpiresAt, &i.UsedAt, &i.UsedBy, &i.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Invite{}, ErrNoInvite
	}
	return i, err
}

// CreateInvite stores a new invite by the hash of its token.
func (db *DB) CreateInvite(ctx context.Context, tokenHash []byte, by uuid.UUID, now time.Time, ttl time.Duration) (Invite, error) {
	i, err := scanInvite(db.q.QueryRow(ctx, `INSERT INTO invites (id, token_hash, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+inviteColumns, uuid.New(), tokenHash, by, now, now.Add(ttl)))
	if err != nil {
		return Invite{}, fmt.Errorf("create invite: %w", err)
	}
	return i, nil
}

// ListInvites returns every invite, newest first.
func (db *DB) ListInvites(ctx context.Context) ([]Invite, error) {
	rows, err := db.q.Query(ctx, `SELECT `+inviteColumns+` FROM invites ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	invites, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invite, error) { return scanInvite(r) })
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	return invites, nil
}

// InviteByTokenHash finds an invite by its token hash, usable or not.
func (db *DB) InviteByTokenHash(ctx context.Context, tokenHash []byte) (Invite, error) {
	i, err := scanInvite(db.q.QueryRow(ctx, `SELECT `+inviteColumns+` FROM invites WHERE token_hash = $1`, tokenHash))
	if err != nil && !errors.Is(err, ErrNoInvite) {
		return Invite{}, fmt.Errorf("find invite: %w", err)
	}
	return i, err
}

// RevokeInvite makes an unused invite unusable. An invite already used
// cannot be revoked (the member exists); that is ErrNoInvite too.
func (db *DB) RevokeInvite(ctx context.Context, id uuid.UUID, now time.Time) (Invite, error) {
	i, err := scanInvite(db.q.QueryRow(ctx, `UPDATE invites SET revoked_at = coalesce(revoked_at, $2)
		WHERE id = $1 AND used_at IS NULL RETURNING `+inviteColumns, id, now))
	if err != nil && !errors.Is(err, ErrNoInvite) {
		return Invite{}, fmt.Errorf("revoke invite %s: %w", id, err)
	}
	return i, err
}

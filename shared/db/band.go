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

// BandMember is a member as the band page lists them: who they are, when
// and by whose invite they joined, and how much they took part.
type BandMember struct {
	ID          uuid.UUID  `json:"id"`
	Email       string     `json:"email,omitempty"` // admins only
	DisplayName string     `json:"display_name"`
	Role        string     `json:"role"`
	JoinedAt    time.Time  `json:"joined_at"`
	DisabledAt  *time.Time `json:"disabled_at"`
	InvitedBy   *Person    `json:"invited_by"`
	Recordings  int        `json:"recordings"`
	Scores      int        `json:"scores"`
	// Invite is the invite the member joined with (admins only).
	Invite *JoinInvite `json:"invite,omitempty"`
}

// Person names a member.
type Person struct {
	ID          uuid.UUID `json:"id"`
	DisplayName string    `json:"display_name"`
}

// JoinInvite is the invite a member joined with: the address it was used
// with, who made it and when.
type JoinInvite struct {
	ID        uuid.UUID `json:"id"`
	Email     string    `json:"email"`
	CreatedBy Person    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UsedAt    time.Time `json:"used_at"`
}

// bandSelect reads members with their counts and their invite, in one
// query: the counts are grouped once, not counted per member.
const bandSelect = `SELECT u.id, u.email, u.display_name, u.role, u.created_at, u.disabled_at,
	coalesce(rc.n, 0), coalesce(sc.n, 0),
	i.id, i.created_at, i.used_at, ib.id, ib.display_name
FROM users u
LEFT JOIN (SELECT uploaded_by, count(*) AS n FROM recordings GROUP BY uploaded_by) rc ON rc.uploaded_by = u.id
LEFT JOIN (SELECT user_id, count(*) AS n FROM scores GROUP BY user_id) sc ON sc.user_id = u.id
LEFT JOIN LATERAL (SELECT id, created_by, created_at, used_at FROM invites
	WHERE used_by = u.id ORDER BY used_at LIMIT 1) i ON true
LEFT JOIN users ib ON ib.id = i.created_by`

func scanBandMember(row pgx.Row) (BandMember, error) {
	var m BandMember
	var inviteID, byID *uuid.UUID
	var created, used *time.Time
	var byName *string
	err := row.Scan(&m.ID, &m.Email, &m.DisplayName, &m.Role, &m.JoinedAt, &m.DisabledAt,
		&m.Recordings, &m.Scores, &inviteID, &created, &used, &byID, &byName)
	if errors.Is(err, pgx.ErrNoRows) {
		return BandMember{}, ErrNoMember
	}
	if err != nil {
		return BandMember{}, err
	}
	if inviteID != nil && byID != nil {
		by := Person{ID: *byID, DisplayName: *byName}
		m.InvitedBy = &by
		m.Invite = &JoinInvite{ID: *inviteID, Email: m.Email, CreatedBy: by, CreatedAt: *created, UsedAt: *used}
	}
	return m, nil
}

// Band lists every member, disabled ones too, in the order they joined.
func (db *DB) Band(ctx context.Context) ([]BandMember, error) {
	rows, err := db.q.Query(ctx, bandSelect+` ORDER BY u.created_at, u.id`)
	if err != nil {
		return nil, fmt.Errorf("list the band: %w", err)
	}
	members, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BandMember, error) { return scanBandMember(r) })
	if err != nil {
		return nil, fmt.Errorf("list the band: %w", err)
	}
	return members, nil
}

// BandMember returns one member as Band lists them.
func (db *DB) BandMember(ctx context.Context, id uuid.UUID) (BandMember, error) {
	m, err := scanBandMember(db.q.QueryRow(ctx, bandSelect+` WHERE u.id = $1`, id))
	if err != nil && !errors.Is(err, ErrNoMember) {
		return BandMember{}, fmt.Errorf("find member %s: %w", id, err)
	}
	return m, err
}

// MemberChange is what an admin changes of a member: nil leaves it.
type MemberChange struct {
	Disabled *bool
	Role     *string
}

// The refusals of ChangeMember, with the words a person sees.
var (
	ErrLastAdmin = errs.Errorf(errs.Conflict,
		"The band needs at least one active admin: make another member admin first.")
	ErrDisableSelf = errs.Errorf(errs.Conflict,
		"You cannot disable yourself. Another admin can, if that is what the band wants.")
	ErrNotAdmin = errs.Errorf(errs.Forbidden, "Only an admin can do that.")
)

// adminsLock is the advisory lock every change of who is an active admin
// takes, so that two admins who unmake or disable each other at once are
// serialised and the second sees the first's change.
const adminsLock = `SELECT pg_advisory_xact_lock(hashtextextended('band-admins', 0))`

// ChangeMember applies an admin's change to a member, in one transaction
// under adminsLock: the actor must still be an active admin, may not
// disable themself, and the band keeps at least one active admin.
// Disabling a member ends their sessions and kills their unused sign-in
// links at once; re-enabling lets them sign in again (their scores count
// again, as they always did while they were active).
func (db *DB) ChangeMember(ctx context.Context, actor, id uuid.UUID, c MemberChange, now time.Time) error {
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, adminsLock); err != nil {
			return err
		}
		var actorAdmin bool
		err := tx.QueryRow(ctx, `SELECT role = 'admin' AND disabled_at IS NULL FROM users WHERE id = $1`, actor).Scan(&actorAdmin)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !actorAdmin {
			return ErrNotAdmin
		}
		if err != nil {
			return err
		}
		var email string
		var disabled bool
		err = tx.QueryRow(ctx, `SELECT email, disabled_at IS NOT NULL FROM users WHERE id = $1 FOR UPDATE`, id).Scan(&email, &disabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoMember
		}
		if err != nil {
			return err
		}
		if c.Role != nil {
			if _, err := tx.Exec(ctx, `UPDATE users SET role = $2 WHERE id = $1`, id, *c.Role); err != nil {
				return err
			}
		}
		switch {
		case c.Disabled == nil || *c.Disabled == disabled:
		case *c.Disabled && id == actor:
			return ErrDisableSelf
		case *c.Disabled:
			if err := disable(ctx, tx, id, email, now); err != nil {
				return err
			}
		default:
			// Enabled again, they sign in afresh: no session from before
			// comes back to life.
			if _, err := tx.Exec(ctx, `UPDATE users SET disabled_at = NULL WHERE id = $1`, id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
				return err
			}
		}
		var admins int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL`).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			return ErrLastAdmin
		}
		return nil
	})
	if err != nil && errs.As(err) == nil {
		return fmt.Errorf("change member %s: %w", id, err)
	}
	return err
}

// disable marks a user disabled, ends their sessions, kills their unused
// sign-in links and revokes the invites they made that nobody has used
// (a link they passed on before must not let a stranger in), inside tx.
func disable(ctx context.Context, tx pgx.Tx, id uuid.UUID, email string, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE users SET disabled_at = $2 WHERE id = $1`, id, now); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE invites SET revoked_at = $2
		WHERE created_by = $1 AND used_at IS NULL AND revoked_at IS NULL`, id, now); err != nil {
		return err
	}
	return killLinks(ctx, tx, id, email, now)
}

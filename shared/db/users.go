package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Roles a user can have.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// User is a member of the band.
type User struct {
	ID          uuid.UUID  `json:"id"`
	Email       string     `json:"email"`
	DisplayName string     `json:"display_name"`
	Role        string     `json:"role"`
	CreatedAt   time.Time  `json:"created_at"`
	DisabledAt  *time.Time `json:"disabled_at,omitempty"`
}

// IsAdmin reports whether u may manage invites.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

const userColumns = `u.id, u.email, u.display_name, u.role, u.created_at, u.disabled_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.DisplayName, &u.Role, &u.CreatedAt, &u.DisabledAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, errNoUser
	}
	return u, err
}

// SeedAdmin creates email as the first admin when the users table is empty;
// it reports whether it created one. Running it again changes nothing.
func (db *DB) SeedAdmin(ctx context.Context, email string) (bool, error) {
	tag, err := db.q.Exec(ctx, `
		INSERT INTO users (id, email, display_name, role)
		SELECT $1, $2, split_part($2, '@', 1), 'admin'
		WHERE NOT EXISTS (SELECT 1 FROM users)
		ON CONFLICT DO NOTHING`, uuid.New(), email)
	if err != nil {
		return false, fmt.Errorf("seed admin: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// CreateUser adds a user; tests and the invite flow use it.
func (db *DB) CreateUser(ctx context.Context, email, displayName, role string) (User, error) {
	u, err := scanUser(db.q.QueryRow(ctx, `
		INSERT INTO users AS u (id, email, display_name, role) VALUES ($1, $2, $3, $4)
		RETURNING `+userColumns, uuid.New(), email, displayName, role))
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}

// DisableUser stops a user from signing in: their sessions end and their
// unused sign-in links die at once, and their scores stop counting. An
// admin does it through ChangeMember, which also keeps the band an admin.
func (db *DB) DisableUser(ctx context.Context, id uuid.UUID, now time.Time) error {
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var email string
		err := tx.QueryRow(ctx, `SELECT email FROM users WHERE id = $1 AND disabled_at IS NULL FOR UPDATE`, id).Scan(&email)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoMember
		}
		if err != nil {
			return err
		}
		return disable(ctx, tx, id, email, now)
	})
	if err != nil && !errors.Is(err, ErrNoMember) {
		return fmt.Errorf("disable user %s: %w", id, err)
	}
	return err
}

// SetDisplayName changes a member's name (already validated) and returns
// the member.
func (db *DB) SetDisplayName(ctx context.Context, id uuid.UUID, name string) (User, error) {
	u, err := scanUser(db.q.QueryRow(ctx, `UPDATE users AS u SET display_name = $2 WHERE id = $1
		RETURNING `+userColumns, id, name))
	if errors.Is(err, errNoUser) {
		return User{}, ErrNoMember
	}
	if err != nil {
		return User{}, fmt.Errorf("rename user %s: %w", id, err)
	}
	return u, nil
}

// ActiveMembers counts users who are not disabled ("5 of 7 have scored").
func (db *DB) ActiveMembers(ctx context.Context) (int, error) {
	var n int
	err := db.q.QueryRow(ctx, `SELECT count(*) FROM users WHERE disabled_at IS NULL`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count members: %w", err)
	}
	return n, nil
}

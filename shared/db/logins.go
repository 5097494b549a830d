package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"bandarchive/shared/jobs"
)

// Limit is a count allowed per window.
type Limit struct {
	Max    int
	Window time.Duration
}

// LinkRequest is one call of send-link (or of join, with an invite).
type LinkRequest struct {
	Email       string // normalised
	DisplayName string // for a new member joining by invite
	InviteID    *uuid.UUID
	IP          string
	RequestID   string // for the delivery's log lines
	Next        string // where the sign-in returns to; "" for the archive's start
	Now         time.Time
	TTL         time.Duration
	Limits      Limits
}

// Limits are the rate limits of sign-in links. Together they stop mail
// bombing and guessing without letting anyone lock a member out:
//
//   - PerIP bounds what one network may ask for, whatever the addresses.
//   - PerPair bounds the links one network may ask for one address.
//   - PerEmail is the ceiling of links one address receives, whoever asks;
//     it does not hold back a request from a network where that member
//     has a session (they signed in from there), so others reaching the
//     ceiling cannot keep the member out at home or on their phone.
type Limits struct {
	PerIP    Limit
	PerPair  Limit
	PerEmail Limit
}

// LinkOutcome says what RequestLink did.
type LinkOutcome struct {
	// RetryAfter is non-zero when a rate limit refused the request.
	RetryAfter time.Duration
	// ID is the stored link's, when the request was accepted.
	ID uuid.UUID
}

// RequestLink applies the rate limits, stores a login link and enqueues
// its delivery, in one transaction. Every accepted request stores a row and
// a job, member or not, so the limits count strangers too and the work
// done does not reveal membership; a stranger's row has neither user nor
// invite, and its job mails nothing. The row has no token yet: the
// delivery mints it (MintLink). Advisory locks on the address and the
// email make the count-then-insert exact across processes.
func (db *DB) RequestLink(ctx context.Context, r LinkRequest) (LinkOutcome, error) {
	var out LinkOutcome
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('login-ip:' || $1, 0)),
			pg_advisory_xact_lock(hashtextextended('login-email:' || $2, 0))`, r.IP, r.Email); err != nil {
			return err
		}
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE u.email = $1 AND s.ip = $2 AND s.expires_at > $3)`, r.Email, r.IP, r.Now).Scan(&known); err != nil {
			return err
		}
		for _, c := range []struct {
			where string
			args  []any
			limit Limit
			skip  bool
		}{
			{"request_ip = $1", []any{r.IP}, r.Limits.PerIP, false},
			{"email = $1 AND request_ip = $2", []any{r.Email, r.IP}, r.Limits.PerPair, false},
			{"email = $1", []any{r.Email}, r.Limits.PerEmail, known},
		} {
			if c.skip {
				continue
			}
			var n int
			var oldest *time.Time
			since := len(c.args) + 1
			err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT count(*), min(created_at) FROM login_tokens
				WHERE %s AND created_at > $%d`, c.where, since), append(c.args, r.Now.Add(-c.limit.Window))...).Scan(&n, &oldest)
			if err != nil {
				return err
			}
			if n >= c.limit.Max {
				out.RetryAfter = max(oldest.Add(c.limit.Window).Sub(r.Now), time.Second)
				return nil
			}
		}
		// FOR SHARE: a disable running meanwhile either comes first (and
		// is seen) or waits for this link, which it then kills.
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = $1 FOR SHARE`, r.Email))
		var userID, inviteID *uuid.UUID
		switch {
		case err == nil && u.DisabledAt != nil:
			// A disabled member gets no link, not even by joining again
			// with an invite: the same neutral answer as a stranger.
		case err == nil:
			userID = &u.ID
		case !errors.Is(err, errNoUser):
			return err
		case r.InviteID != nil:
			inviteID = r.InviteID
		}
		id := uuid.New()
		out.ID = id
		_, err = tx.Exec(ctx, `INSERT INTO login_tokens
			(id, user_id, email, display_name, invite_id, created_at, expires_at, request_ip, request_id, next_path)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7, $8, NULLIF($9, ''), NULLIF($10, ''))`,
			id, userID, r.Email, r.DisplayName, inviteID, r.Now, r.Now.Add(r.TTL), r.IP, Text(r.RequestID, 128), r.Next)
		if err != nil {
			return err
		}
		_, err = db.jobs.InsertTx(ctx, tx, jobs.DeliverLink{LoginID: id, RequestID: r.RequestID}, nil)
		return err
	})
	if err != nil {
		return LinkOutcome{}, fmt.Errorf("request login link: %w", err)
	}
	return out, nil
}

// LinkToMail is what the delivery of a link needs.
type LinkToMail struct {
	Email string
	// Joining is true for an invitee who is not a member yet.
	Joining bool
}

// MintLink gives the stored link id the token whose hash is tokenHash and
// returns what its mail needs, or ok false when nothing is to be mailed: a
// stranger's request, or a link used, expired or given up meanwhile. A
// newer mint replaces an older one, so after a retried delivery only the
// newest mail's link works.
func (db *DB) MintLink(ctx context.Context, id uuid.UUID, tokenHash []byte, now time.Time) (m LinkToMail, ok bool, err error) {
	err = db.q.QueryRow(ctx, `UPDATE login_tokens SET token_hash = $2
		WHERE id = $1 AND used_at IS NULL AND delivery_failed_at IS NULL AND expires_at > $3
		  AND (user_id IS NOT NULL OR invite_id IS NOT NULL)
		RETURNING email, user_id IS NULL`, id, tokenHash, now).Scan(&m.Email, &m.Joining)
	if errors.Is(err, pgx.ErrNoRows) {
		return LinkToMail{}, false, nil
	}
	if err != nil {
		return LinkToMail{}, false, fmt.Errorf("mint login link: %w", err)
	}
	return m, true, nil
}

// LinkUndeliverable kills a link whose mail failed for good: nobody can
// hold its token, and the request is answered by nothing.
func (db *DB) LinkUndeliverable(ctx context.Context, id uuid.UUID, now time.Time) error {
	_, err := db.q.Exec(ctx, `UPDATE login_tokens SET token_hash = NULL, delivery_failed_at = $2
		WHERE id = $1 AND used_at IS NULL`, id, now)
	if err != nil {
		return fmt.Errorf("mark login link undeliverable: %w", err)
	}
	return nil
}

// LinkUsable reports whether a login link could still sign someone in at
// now. It only reads: the confirm page uses it, and must consume nothing.
func (db *DB) LinkUsable(ctx context.Context, tokenHash []byte, now time.Time) (bool, error) {
	var ok bool
	err := db.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM login_tokens
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
		  AND (user_id IS NOT NULL OR invite_id IS NOT NULL))`, tokenHash, now).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check login link: %w", err)
	}
	return ok, nil
}

// NewSession describes the session a consumed link creates.
type NewSession struct {
	TokenHash []byte
	TTL       time.Duration
	UserAgent string
	IP        string
}

// ConsumeLink uses up a login link and creates a session, atomically: one
// conditional UPDATE claims the link (so two racing requests give one
// session), an invitee becomes a member and the invite is used up, the
// user's other outstanding links die, and the session is stored. Nothing of
// it happens unless all of it does. It returns the user and the path the
// link was asked for from ("" for none).
func (db *DB) ConsumeLink(ctx context.Context, tokenHash []byte, now time.Time, s NewSession) (User, string, error) {
	var u User
	var next *string
	err := db.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var userID, inviteID *uuid.UUID
		var email string
		var displayName *string
		err := tx.QueryRow(ctx, `UPDATE login_tokens SET used_at = $2
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
			  AND (user_id IS NOT NULL OR invite_id IS NOT NULL)
			RETURNING user_id, invite_id, email, display_name, next_path`, tokenHash, now).
			Scan(&userID, &inviteID, &email, &displayName, &next)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrLinkInvalid
		}
		if err != nil {
			return err
		}
		if userID == nil {
			// An invitee: the email may have joined since the link was sent.
			u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = $1 FOR SHARE`, email))
			if errors.Is(err, errNoUser) {
				u, err = joinByInvite(ctx, tx, *inviteID, email, displayName, now)
			}
		} else {
			// FOR SHARE: a disable running meanwhile either comes first (and
			// is seen) or waits for this session, which it then deletes.
			u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1 FOR SHARE`, *userID))
		}
		if errors.Is(err, errNoUser) {
			return ErrLinkInvalid
		}
		if err != nil {
			return err
		}
		if u.DisabledAt != nil {
			return ErrLinkInvalid
		}
		if err := killLinks(ctx, tx, u.ID, u.Email, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at, user_agent, ip)
			VALUES ($1, $2, $3, $4, $5, $4, $6, $7)`, uuid.New(), s.TokenHash, u.ID, now, now.Add(s.TTL), Text(s.UserAgent, 512), Text(s.IP, 64))
		return err
	})
	if errors.Is(err, ErrLinkInvalid) || errors.Is(err, ErrInviteGone) {
		return User{}, "", err
	}
	if err != nil {
		return User{}, "", fmt.Errorf("consume login link: %w", err)
	}
	if next == nil {
		return u, "", nil
	}
	return u, *next, nil
}

func joinByInvite(ctx context.Context, tx pgx.Tx, inviteID uuid.UUID, email string, displayName *string, now time.Time) (User, error) {
	name := ""
	if displayName != nil {
		name = *displayName
	}
	u, err := scanUser(tx.QueryRow(ctx, `INSERT INTO users AS u (id, email, display_name, role, created_at)
		VALUES ($1, $2, $3, 'member', $4) RETURNING `+userColumns, uuid.New(), email, name, now))
	if err != nil {
		return User{}, err
	}
	tag, err := tx.Exec(ctx, `UPDATE invites SET used_at = $2, used_by = $3
		WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2`, inviteID, now, u.ID)
	if err != nil {
		return User{}, err
	}
	if tag.RowsAffected() == 0 {
		return User{}, ErrInviteGone // the caller's rollback removes the user again
	}
	return u, nil
}

// Text makes s storable as PostgreSQL text of at most n bytes: invalid
// UTF-8 and NUL bytes (which PostgreSQL refuses, failing the whole
// statement) are dropped. For what a client sends and nobody validates,
// such as a User-Agent.
func Text(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// killLinks spends every unused sign-in link of a user (by id, or by
// email for an invitee's), inside tx: once one is used, or the user is
// disabled, none of the others may sign in.
func killLinks(ctx context.Context, tx pgx.Tx, id uuid.UUID, email string, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE login_tokens SET used_at = $3
		WHERE used_at IS NULL AND (user_id = $1 OR email = $2)`, id, email, now)
	return err
}

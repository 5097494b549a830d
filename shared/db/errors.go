package db

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"bandarchive/shared/errs"
)

// The not-found errors of the store, with the words a person sees.
var (
	ErrNoRecording = errs.Errorf(errs.NotFound, "There is no such recording.")
	ErrNoInvite    = errs.Errorf(errs.NotFound, "There is no unused invite with that id.")
	ErrNoMember    = errs.Errorf(errs.NotFound, "There is no such member.")
	ErrNoSession   = errs.Errorf(errs.Unauthenticated, "Your session has ended. Please sign in again.")
	// ErrLinkInvalid: a sign-in link that is unknown, used, expired, or
	// for a disabled member.
	ErrLinkInvalid = errs.Errorf(errs.NotFound, "This sign-in link is used, expired or unknown.")
	// ErrInviteGone: the invite behind a link was used, revoked or expired.
	ErrInviteGone = errs.Errorf(errs.NotFound, "This invite was used, revoked, or has expired.")
)

// errNoUser is scanUser's "no rows", which callers turn into their own answer.
var errNoUser = errors.New("no such user")

// duplicate is the conflict of a file already archived, naming the
// recording that has it.
func duplicate(id uuid.UUID) error {
	return &errs.Error{Code: errs.Conflict, Message: "This exact file is already in the archive.",
		Details: map[string]any{"existing_id": id}}
}

// DuplicateOf returns the id of the recording that a duplicate conflict
// (of CheckNew or InsertRecording) names.
func DuplicateOf(err error) (uuid.UUID, bool) {
	e := errs.As(err)
	if e == nil || e.Code != errs.Conflict {
		return uuid.Nil, false
	}
	id, ok := e.Details["existing_id"].(uuid.UUID)
	return id, ok
}

// retryAfter is what a client is told to wait when the database is away.
const retryAfter = 15 * time.Second

// unavailable marks err as the database being away (stopped, restarting,
// frozen, out of connections), which a moment may cure: 503, not 500.
// Other errors pass unchanged.
func unavailable(err error) error {
	if err == nil || !isUnavailable(err) {
		return err
	}
	return &errs.Error{Code: errs.Unavailable, RetryAfter: retryAfter, Err: err,
		Message: "The archive cannot reach its database right now. Please try again in a minute."}
}

func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection exception
			return true
		case strings.HasPrefix(pgErr.Code, "53"): // insufficient resources: too many connections, disk full
			return true
		}
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", // admin shutdown, crash shutdown, cannot connect now
			"57014",          // query canceled: the statement timeout
			"40001", "40P01": // serialization failure, deadlock: retry
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) ||
		pgconn.SafeToRetry(err)
}

// bounded is the pool as the store's queries use it: each statement gets
// at most timeout, acquiring a connection included, so a frozen database
// answers 503 within seconds instead of holding the request as long as the
// client waits; and its faults come back marked unavailable.
type bounded struct {
	pool    *pgxpool.Pool
	timeout time.Duration
}

func (b bounded) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, b.timeout)
}

func (b bounded) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	ctx, cancel := b.bound(ctx)
	defer cancel()
	tag, err := b.pool.Exec(ctx, sql, args...)
	return tag, unavailable(err)
}

func (b bounded) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	ctx, cancel := b.bound(ctx)
	return boundedRow{b.pool.QueryRow(ctx, sql, args...), cancel}
}

func (b bounded) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	ctx, cancel := b.bound(ctx)
	rows, err := b.pool.Query(ctx, sql, args...)
	if err != nil {
		cancel()
		return nil, unavailable(err)
	}
	return &boundedRows{Rows: rows, cancel: cancel}, nil
}

// Begin starts a transaction bounded as one statement is: the whole of it
// must finish within the timeout.
func (b bounded) Begin(ctx context.Context) (pgx.Tx, context.Context, context.CancelFunc, error) {
	ctx, cancel := b.bound(ctx)
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		cancel()
		return nil, nil, nil, unavailable(err)
	}
	return tx, ctx, cancel, nil
}

type boundedRow struct {
	row    pgx.Row
	cancel context.CancelFunc
}

func (r boundedRow) Scan(dest ...any) error {
	defer r.cancel()
	return unavailable(r.row.Scan(dest...))
}

type boundedRows struct {
	pgx.Rows
	cancel context.CancelFunc
}

func (r *boundedRows) Close() {
	r.Rows.Close()
	r.cancel()
}

func (r *boundedRows) Err() error { return unavailable(r.Rows.Err()) }

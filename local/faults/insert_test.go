package faults

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"bandarchive/shared/apptest"
)

// TestInsertTimedOutButCommitted makes the upload's INSERT outlive the
// upload function's 5-second query bound and commit afterwards, as a
// statement whose cancellation does not get through does: the upload
// function has answered 503, and then the row appears. The archive must
// end with both or neither (the file stays when the outcome is unknown,
// and the sweep removes it if no row comes): a row
// whose file is gone is listed, cannot be played, and makes every later
// upload of the same file a 409 naming it.
//
// How: the test inserts, in a transaction it keeps open, a row with the
// upload's SHA-256, so the upload's INSERT waits on the unique index;
// once it waits, the postmaster alone is frozen (the backends run on), so
// the cancel request pgx sends when it gives up never arrives; after the
// 503 the test rolls back, the INSERT goes through and commits.
func TestInsertTimedOutButCommitted(t *testing.T) {
	f := setup(t)
	f.logTails(t)
	f.healthy(t)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)

	wav := uniqueWAV(3000)
	sum := sha256.Sum256(wav)
	title := "timed out " + randomName()
	form, ct := apptest.Multipart(t, map[string]string{"title": title}, "timed-out.wav", wav)
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO recordings (id, title, original_filename, format, mime_type, file_size_bytes, sha256, uploaded_at, uploaded_by)
		VALUES (gen_random_uuid(), 'blocker', 'blocker.wav', 'wav', 'audio/wav', 1, $1, now(), $2)`, sum[:], f.member.id); err != nil {
		t.Fatal(err)
	}
	answered := make(chan answer, 1)
	go func() {
		answered <- f.write("POST", f.s.URL+"/api/upload", f.member, map[string]string{"Content-Type": ct}, form)
	}()
	insertWaiting := func(c *pgx.Conn) (bool, string) {
		var n int
		err := c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO recordings %'`).Scan(&n)
		return n > 0, fmt.Sprintf("%d INSERTs waiting %s", n, errString(err))
	}
	waitFor(t, "the upload's INSERT waits on the test's row", patience, func() (bool, string) {
		var ok bool
		var detail string
		err := f.sql(func(ctx context.Context, c *pgx.Conn) error { ok, detail = insertWaiting(c); return nil })
		return ok, detail + " " + errString(err)
	})

	pm := f.pg.postmaster()
	if err := syscall.Kill(pm, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pm, syscall.SIGCONT)
	var a answer
	select {
	case a = <-answered:
	case <-time.After(patience):
		t.Fatal("the upload did not answer within a minute")
	}
	t.Logf("the upload answered %s", a)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The test's own connection needs no postmaster: it sees the INSERT
	// finish (or not) with the postmaster still frozen.
	waitFor(t, "the upload's INSERT is over", patience, func() (bool, string) {
		waiting, detail := insertWaiting(c)
		return !waiting, detail
	})
	syscall.Kill(pm, syscall.SIGCONT)

	var id string
	err = c.QueryRow(ctx, `SELECT id FROM recordings WHERE title = $1`, title).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if a.status == http.StatusCreated {
			t.Fatalf("the upload answered 201, but there is no row")
		}
		t.Logf("no row: consistent with the answer")
	case err != nil:
		t.Fatal(err)
	default:
		path := filepath.Join(f.uploads, id, "original.wav")
		if _, err := os.Stat(path); err != nil {
			t.Errorf("the upload answered %d %s, then its row %s committed, and its file is gone (%v): the archive lists a recording it cannot play",
				a.status, a.code(), id, err)
			f.healthy(t)
			audio := do("GET", f.s.URL+"/api/recordings/"+id+"/audio", map[string]string{"Cookie": f.member.cookie}, nil)
			again := f.upload(t, f.s.URL, f.member, "again", wav)
			t.Logf("its audio answers %d; uploading the same file again answers %s", audio.status, again)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

package db_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
)

// TestPagesFollowTheirRows: paged one row at a time, every sort in both
// directions gives the list in the order of one page, ties, unscored and
// undated recordings included; and a list paged while it changes ("not
// yet scored by me", scored page by page; a recording uploaded meanwhile)
// skips none of the recordings that stay in it, which an offset would.
func TestPagesFollowTheirRows(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	ann, _ := d.CreateUser(ctx, "ann@example.org", "Ann", db.RoleMember)
	bob, _ := d.CreateUser(ctx, "bob@example.org", "Bob", db.RoleMember)
	uploaded := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	n := 0
	add := func(title, recorded string) uuid.UUID {
		t.Helper()
		n++
		sum := sha256.Sum256(fmt.Appendf(nil, "%s %d", title, n))
		r := db.Recording{ID: uuid.New(), Title: title, OriginalFilename: title + ".wav", Format: "wav",
			MIMEType: "audio/wav", FileSizeBytes: 1, SHA256: sum[:], UploadedAt: uploaded.Add(time.Duration(n%4) * time.Microsecond),
			UploadedBy: ann.ID}
		if recorded != "" {
			day, _ := time.Parse(db.DateLayout, recorded)
			r.RecordedDate = &day
		}
		if err := d.InsertRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	// Twelve recordings with ties everywhere: titles, dates (and none),
	// upload instants, and scores (and none).
	var ids []uuid.UUID
	for i := range 12 {
		date := []string{"2003-03-14", "2003-03-14", "", "1999-12-31"}[i%4]
		id := add([]string{"Gig", "gig", "Rehearsal"}[i%3], date)
		ids = append(ids, id)
		if i%3 != 0 {
			if err := d.SetScore(ctx, id, bob.ID, 1+i%5, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	list := func(q db.ListQuery) []uuid.UUID {
		t.Helper()
		var got []uuid.UUID
		for {
			page, err := d.ListRecordings(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Recordings {
				got = append(got, r.ID)
			}
			if page.Next == nil {
				return got
			}
			// The cursor goes through its string, as a client carries it.
			if q.After, err = db.ParseCursor(page.Next.Encode(), q.Sort); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, sort := range []string{db.SortScore, db.SortRecorded, db.SortUploaded, db.SortTitle} {
		for _, s := range []string{sort, "-" + sort} {
			whole := list(db.ListQuery{Viewer: ann.ID, Sort: s, Limit: 200})
			paged := list(db.ListQuery{Viewer: ann.ID, Sort: s, Limit: 1})
			if len(whole) != 12 || !slices.Equal(paged, whole) {
				t.Errorf("%s: one at a time %v, want %v", s, paged, whole)
			}
		}
	}

	// Ann works through what she has not scored, three at a time, scoring
	// each page before asking for the next; meanwhile one is uploaded.
	q := db.ListQuery{Viewer: ann.ID, Sort: db.SortTitle, Limit: 3, UnscoredByViewer: true}
	seen := map[uuid.UUID]bool{}
	var late uuid.UUID
	for pages := 0; ; pages++ {
		page, err := d.ListRecordings(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Recordings {
			if seen[r.ID] {
				t.Fatalf("%s came twice", r.Title)
			}
			seen[r.ID] = true
			if err := d.SetScore(ctx, r.ID, ann.ID, 3, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if pages == 1 {
			late = add("Zebra", "") // sorts last by title: still ahead
		}
		if page.Next == nil {
			break
		}
		q.After = page.Next
	}
	for _, id := range append(ids, late) {
		if !seen[id] {
			t.Errorf("recording %s was skipped", id)
		}
	}

	// A cursor of one sort is refused for another, and a tampered one too.
	page, err := d.ListRecordings(ctx, db.ListQuery{Viewer: ann.ID, Sort: db.SortTitle, Limit: 1})
	if err != nil || page.Next == nil {
		t.Fatalf("first page: %v", err)
	}
	for _, tt := range []struct{ cursor, sort string }{
		{page.Next.Encode(), db.SortRecorded},
		{page.Next.Encode(), "-" + db.SortTitle},
		{page.Next.Encode()[:10], db.SortTitle},
		{"eyJzIjoidGl0bGUiLCJrIjpbbnVsbCxudWxsXX0", db.SortTitle}, // {"s":"title","k":[null,null]}
		{"eyJzIjoidGl0bGUiLCJrIjpbIlx1MDAwMCIsIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJdfQ", db.SortTitle}, // a NUL in the title
	} {
		if _, err := db.ParseCursor(tt.cursor, tt.sort); err == nil {
			t.Errorf("cursor %q for %s: accepted", tt.cursor, tt.sort)
		}
	}
}

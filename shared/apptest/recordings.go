package apptest

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"bandarchive/shared/db"
)

// Recording is a recording as the API shows it to a client.
type Recording struct {
	ID               string   `json:"id"`
	Title            string   `json:"title"`
	OriginalFilename string   `json:"original_filename"`
	Format           string   `json:"format"`
	MIMEType         string   `json:"mime_type"`
	DurationSeconds  *float64 `json:"duration_seconds"`
	FileSizeBytes    int64    `json:"file_size_bytes"`
	SHA256           string   `json:"sha256"`
	RecordedDate     *string  `json:"recorded_date"`
	Venue            string   `json:"venue"`
	Source           string   `json:"source"`
	Notes            string   `json:"notes"`
	Average          *float64 `json:"average"`
	Count            int      `json:"count"`
	Members          int      `json:"members"`
	MyScore          *int     `json:"my_score"`
	UploadedByName   string   `json:"uploaded_by_name"`
}

// Page is one page of the recordings list or of the ranking.
type Page struct {
	Recordings   []Recording `json:"recordings"`
	NextCursor   string      `json:"next_cursor"`
	Members      int         `json:"members"`
	Total        int         `json:"total"`
	UnscoredByMe int         `json:"unscored_by_me"`
}

// Titles is the page's titles in order, joined by commas: the order a
// test expects, in one string.
func (p Page) Titles() string {
	var ts []string
	for _, r := range p.Recordings {
		ts = append(ts, r.Title)
	}
	return strings.Join(ts, ",")
}

// Score sets the browser's score of recording id to s (sent as it is, so
// a test can send anything) and returns the recording the archive answers
// with; anything but 200 fails the test.
func (b *Browser) Score(id string, s any) Recording {
	b.h.T.Helper()
	r := b.Call("PUT", "/api/scores/"+id, map[string]any{"score": s})
	if r.Status != http.StatusOK {
		b.h.T.Fatalf("score %s = %v: %d %s", id, s, r.Status, r.Body)
	}
	var rec Recording
	r.JSON(b.h.T, &rec)
	return rec
}

// SeedArchive fills the archive with members m0@band.example, m1@... and
// n recordings (rows only, no files), each member scoring about two thirds
// of them, and returns the members. It is how list tests and benchmarks
// get an archive of a realistic size quickly.
func (h *Harness) SeedArchive(n, members int) []db.User {
	h.T.Helper()
	var users []db.User
	for i := range members {
		users = append(users, h.User(fmt.Sprintf("m%d@band.example", i), fmt.Sprint(i), db.RoleMember))
	}
	ctx := context.Background()
	_, err := h.DB.Pool().Exec(ctx, `INSERT INTO recordings (id, title, original_filename, format, mime_type,
		duration_seconds, file_size_bytes, sha256, uploaded_at, uploaded_by, recorded_date, venue, source, notes)
		SELECT gen_random_uuid(), 'Recording ' || i, 'r' || i || '.wav', 'wav', 'audio/wav', 60 + i % 3000,
			1000000 + i, sha256(i::text::bytea), now() - i * interval '1 hour', $1,
			date '1995-01-01' + (i % 9000), 'Venue ' || (i % 40), 'DAT', 'notes ' || i
		FROM generate_series(1, $2) AS i`, users[0].ID, n)
	if err != nil {
		h.T.Fatal(err)
	}
	for k, u := range users {
		_, err := h.DB.Pool().Exec(ctx, `INSERT INTO scores (recording_id, user_id, score, scored_at)
			SELECT id, $1, 1 + (abs(hashtext(id::text)) + $2) % 5, now() FROM recordings
			WHERE abs(hashtext(id::text || $2::text)) % 3 <> 0`, u.ID, k)
		if err != nil {
			h.T.Fatal(err)
		}
	}
	return users
}

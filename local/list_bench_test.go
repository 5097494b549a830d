package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bandarchive/shared/apptest"
	"bandarchive/shared/db"
)

// seedArchive fills the archive with n recordings (rows only) and has each
// of the members score about two thirds of them.
func seedArchive(tb testing.TB, h *apptest.Harness, n int, members []db.User) {
	tb.Helper()
	ctx := context.Background()
	_, err := h.DB.Pool().Exec(ctx, `INSERT INTO recordings (id, title, original_filename, format, mime_type,
		duration_seconds, file_size_bytes, sha256, uploaded_at, uploaded_by, recorded_date, venue, source, notes)
		SELECT gen_random_uuid(), 'Recording ' || i, 'r' || i || '.wav', 'wav', 'audio/wav', 60 + i % 3000,
			1000000 + i, sha256(i::text::bytea), now() - i * interval '1 hour', $1,
			date '1995-01-01' + (i % 9000), 'Venue ' || (i % 40), 'DAT', 'notes ' || i
		FROM generate_series(1, $2) AS i`, members[0].ID, n)
	if err != nil {
		tb.Fatal(err)
	}
	for k, u := range members {
		_, err := h.DB.Pool().Exec(ctx, `INSERT INTO scores (recording_id, user_id, score, scored_at)
			SELECT id, $1, 1 + (abs(hashtext(id::text)) + $2) % 5, now() FROM recordings
			WHERE abs(hashtext(id::text || $2::text)) % 3 <> 0`, u.ID, k)
		if err != nil {
			tb.Fatal(err)
		}
	}
}

func TestListIsOneQueryWhateverItsLength(t *testing.T) {
	h := apptest.New(t, apptest.HTTP, all, apptest.Options{})
	var users []db.User
	for i := range 7 {
		users = append(users, h.User(fmt.Sprintf("m%d@band.example", i), fmt.Sprint(i), db.RoleMember))
	}
	seedArchive(t, h, 250, users)
	b := h.Browser("203.0.113.50")
	b.SignInAs(users[3])
	for _, path := range []string{"/api/recordings?sort=score&limit=10", "/api/recordings?sort=score&limit=200", "/api/scores?limit=200", "/api/recordings?unscored=me&q=venue"} {
		before := h.Queries.Count()
		r := b.Call("GET", path, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Status)
		}
		// One for the session, one for the page.
		if got := h.Queries.Count() - before; got != 2 {
			t.Errorf("%s: %d queries, want 2", path, got)
		}
	}
}

// BenchmarkListByScore serves GET /api/recordings?sort=score from an
// archive of 2,000 recordings scored by 7 members, to 32 concurrent
// clients, and reports requests per second and the 99th percentile.
func BenchmarkListByScore(b *testing.B) {
	h := apptest.New(b, apptest.HTTP, all, apptest.Options{})
	var users []db.User
	for i := range 7 {
		users = append(users, h.User(fmt.Sprintf("m%d@band.example", i), fmt.Sprint(i), db.RoleMember))
	}
	seedArchive(b, h, 2000, users)
	browsers := make([]*apptest.Browser, len(users))
	for i, u := range users {
		browsers[i] = h.Browser(fmt.Sprintf("203.0.113.%d", 60+i))
		browsers[i].SignInAs(u)
	}
	const clients = 32
	var next atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			var mine []time.Duration
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				r := browsers[c%len(browsers)].Call("GET", "/api/recordings?sort=score", nil)
				mine = append(mine, time.Since(t0))
				if r.Status != http.StatusOK {
					b.Errorf("status %d", r.Status)
					return
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
}

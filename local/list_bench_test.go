package main

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bandarchive/shared/apptest"
)

// BenchmarkListByScore serves GET /api/recordings?sort=score from an
// archive of 2,000 recordings scored by 7 members, to 32 concurrent
// clients, and reports requests per second and the 99th percentile.
func BenchmarkListByScore(b *testing.B) {
	h := apptest.New(b, apptest.HTTP, all, apptest.Options{})
	users := h.SeedArchive(2000, 7)
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

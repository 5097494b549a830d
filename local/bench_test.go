package main

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"bandarchive/shared/apptest"
	"bandarchive/shared/db"
)

// BenchmarkSendLinkMemberVsStranger measures the answer time of send-link
// for a member and for a stranger, interleaved so both see the same noise,
// and reports the two medians side by side: they must not tell who is a
// member. The mail goes to the fake Mailersend in the background.
func BenchmarkSendLinkMemberVsStranger(b *testing.B) {
	h := apptest.New(b, apptest.HTTP, all, apptest.Options{})
	h.User("ann@band.example", "Ann", db.RoleMember)
	member, stranger := h.Browser("198.51.100.1"), h.Browser("198.51.100.2")
	var mt, st []time.Duration
	timed := func(br *apptest.Browser, email string) time.Duration {
		start := time.Now()
		if r := br.SendLink(email); r.Status != http.StatusAccepted {
			b.Fatalf("send-link: %d %s", r.Status, r.Body)
		}
		return time.Since(start)
	}
	for i := 0; b.Loop(); i++ {
		h.Clock.Advance(time.Hour) // stay under the rate limits
		if i%2 == 0 {
			mt = append(mt, timed(member, "ann@band.example"))
			st = append(st, timed(stranger, "nobody@band.example"))
		} else {
			st = append(st, timed(stranger, "nobody@band.example"))
			mt = append(mt, timed(member, "ann@band.example"))
		}
	}
	m, s := median(mt), median(st)
	b.ReportMetric(float64(m.Microseconds()), "member-median-µs")
	b.ReportMetric(float64(s.Microseconds()), "stranger-median-µs")
	b.ReportMetric(float64(m)/float64(s), "member/stranger")
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

package faults

import (
	"net/http"
	"testing"
	"time"

	"bandarchive/shared/routes"
)

// quickly bounds an answer while the database is away. The archive bounds
// each query at about 5 s (the health check at 2 s); a request that hangs
// would take the client's whole minute.
const quickly = 30 * time.Second

// checkUnavailable wants every probe answered 503 by the function itself:
// the JSON unavailable error with a Retry-After (Nginx's own 503, for a
// function that is down or too slow, carries none), within quickly.
func checkUnavailable(t *testing.T, ps []probe, answers []answer) {
	t.Helper()
	for i, a := range answers {
		switch {
		case a.err != nil || a.status != http.StatusServiceUnavailable || a.code() != "unavailable":
			t.Errorf("%s: %s; want 503 with the JSON unavailable error", ps[i].name, a)
		case a.header.Get("Retry-After") == "":
			t.Errorf("%s: 503 without Retry-After (Nginx's answer, not the function's?): %s", ps[i].name, a)
		case a.took >= quickly:
			t.Errorf("%s: answered after %s, want under %s", ps[i].name, a.took, quickly)
		default:
			t.Logf("%s: 503 (Retry-After %s) after %s", ps[i].name, a.header.Get("Retry-After"), a.took.Round(time.Millisecond))
		}
	}
}

// TestFrozenDatabase freezes PostgreSQL, postmaster and every child, with
// SIGSTOP: connections stay open and nothing answers, the worst case for
// a client. Requests that need the database must answer 503 with
// Retry-After within seconds, not hang; after SIGCONT the same requests
// succeed again, with the same processes.
func TestFrozenDatabase(t *testing.T) {
	f := setup(t)
	f.logTails(t)
	f.healthy(t) // every pool holds connections to backends that will freeze
	before := f.s.PIDs()

	frozen := f.pg.freeze(t)
	t.Logf("froze the postmaster and its %d children", len(frozen)-1)
	ps := f.probes()
	checkUnavailable(t, ps, f.askAll(ps))

	f.pg.thaw(frozen)
	began := time.Now()
	f.healthy(t)
	t.Logf("every probe answered 200 again %s after SIGCONT", time.Since(began).Round(time.Millisecond))
	f.alive(t, before)
}

// TestStoppedDatabase stops PostgreSQL (pg_ctl stop -m fast): requests
// that need it answer 503 with the JSON unavailable error, never 500; once
// it is started again they succeed, with the same processes.
func TestStoppedDatabase(t *testing.T) {
	f := setup(t)
	f.logTails(t)
	f.healthy(t)
	before := f.s.PIDs()
	logged := map[string]int64{} // the length of each function's log before
	for _, name := range routes.Functions() {
		logged[name] = logSize(f.s.LogFile(name))
	}

	t.Cleanup(func() {
		if !f.pg.running() {
			if err := f.pg.start(); err != nil {
				t.Errorf("start PostgreSQL again: %v", err)
			}
		}
	})
	if err := f.pg.stop("fast"); err != nil {
		t.Fatal(err)
	}
	ps := f.probes()
	// Twice: first on the pools' connections the shutdown closed, then on
	// new connections the stopped server refuses.
	for range 2 {
		checkUnavailable(t, ps, f.askAll(ps))
	}

	if err := f.pg.start(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	f.healthy(t)
	t.Logf("every probe answered 200 again %s after the start", time.Since(began).Round(time.Millisecond))
	f.alive(t, before)

	// No function answered a 500 meanwhile.
	for _, name := range routes.Functions() {
		for _, line := range logLines(f.s.LogFile(name), logged[name], func(e map[string]any, _ string) bool {
			return e["status"] == float64(http.StatusInternalServerError)
		}) {
			t.Errorf("%s logged a 500: %s", name, line)
		}
	}
}

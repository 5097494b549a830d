package db_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"

	"github.com/google/uuid"
)

func TestMigrateIsIdempotentAndSchemaChecked(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.CheckSchema(ctx); err == nil {
		t.Fatal("CheckSchema on an empty schema: got nil, want a stale-schema error")
	}
	for i := range 2 {
		if err := d.Migrate(ctx, nil); err != nil {
			t.Fatalf("migrate #%d: %v", i+1, err)
		}
	}
	if err := d.CheckSchema(ctx); err != nil {
		t.Fatalf("CheckSchema after migrate: %v", err)
	}
}

func TestSeedAdminOnlyOnEmptyTable(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	created, err := d.SeedAdmin(ctx, "boss@example.org")
	if err != nil || !created {
		t.Fatalf("first seed: created=%v err=%v, want true, nil", created, err)
	}
	for _, email := range []string{"boss@example.org", "other@example.org"} {
		created, err = d.SeedAdmin(ctx, email)
		if err != nil || created {
			t.Fatalf("seed %s again: created=%v err=%v, want false, nil", email, created, err)
		}
	}
	n, err := d.ActiveMembers(ctx)
	if err != nil || n != 1 {
		t.Fatalf("members = %d, %v; want 1", n, err)
	}
}

func TestEmailsAreUniqueCaseInsensitively(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	if _, err := d.CreateUser(ctx, "ann@example.org", "Ann", db.RoleMember); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateUser(ctx, "ann@example.org", "Ann 2", db.RoleMember); err == nil {
		t.Fatal("second user with the same email: got nil error")
	}
	if _, err := d.CreateUser(ctx, "Ann@Example.org", "Ann 3", db.RoleMember); err == nil {
		t.Fatal("an email that is not normalised was stored")
	}
}

var testLimits = db.Limits{
	PerIP:    db.Limit{Max: 5, Window: time.Hour},
	PerPair:  db.Limit{Max: 3, Window: time.Hour},
	PerEmail: db.Limit{Max: 4, Window: time.Hour},
}

func TestRateLimitsCountEveryoneAndReportRetryAfter(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	req := func(email, ip string, at time.Time) db.LinkOutcome {
		t.Helper()
		out, err := d.RequestLink(ctx, db.LinkRequest{
			Email: email, IP: ip, Now: at, TTL: 10 * time.Minute,
			Limits: testLimits,
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for i := range 3 {
		if out := req("x@example.org", "10.0.0.1", now.Add(time.Duration(i)*time.Minute)); out.RetryAfter != 0 {
			t.Fatalf("request %d refused", i+1)
		}
	}
	if out := req("x@example.org", "10.0.0.1", now.Add(10*time.Minute)); out.RetryAfter != 50*time.Minute {
		t.Fatalf("4th request per address and email: RetryAfter = %v, want 50m", out.RetryAfter)
	}
	// Another network may still ask for the same address, up to the ceiling.
	if out := req("x@example.org", "10.0.0.2", now.Add(10*time.Minute)); out.RetryAfter != 0 {
		t.Fatal("a request from another network was refused below the per-email ceiling")
	}
	if out := req("x@example.org", "10.0.0.3", now.Add(11*time.Minute)); out.RetryAfter != 49*time.Minute {
		t.Fatalf("request over the per-email ceiling: RetryAfter = %v, want 49m", out.RetryAfter)
	}
	if out := req("x@example.org", "10.0.0.3", now.Add(61*time.Minute)); out.RetryAfter != 0 {
		t.Fatal("after the window the oldest request no longer counts, but was refused")
	}
	for i := range 5 {
		email := string(rune('a'+i)) + "@example.org"
		if out := req(email, "10.0.0.9", now.Add(time.Duration(i)*time.Second)); out.RetryAfter != 0 {
			t.Fatalf("request %d from one address refused below the limit", i+1)
		}
	}
	if out := req("f@example.org", "10.0.0.9", now.Add(time.Minute)); out.RetryAfter != 59*time.Minute {
		t.Fatalf("6th request per address: RetryAfter = %v, want 59m", out.RetryAfter)
	}
}

// TestOthersCannotLockAMemberOut: strangers on many networks exhaust the
// per-email ceiling of a member's address; the member, asking from a
// network where they have a session, still gets a link, and a member on a
// new network is held back like anyone else.
func TestOthersCannotLockAMemberOut(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u, err := d.CreateUser(ctx, "ann@example.org", "Ann", db.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	req := func(ip string) db.LinkOutcome {
		t.Helper()
		out, err := d.RequestLink(ctx, db.LinkRequest{Email: u.Email, IP: ip, Now: now, TTL: 10 * time.Minute, Limits: testLimits})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	mints := func(out db.LinkOutcome, hash string) bool {
		t.Helper()
		_, ok, err := d.MintLink(ctx, out.ID, []byte(hash), now)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// Ann signs in at home once.
	if out := req("192.0.2.1"); !mints(out, "hash-1") {
		t.Fatal("first link for a member has nothing to mail")
	}
	if _, _, err := d.ConsumeLink(ctx, []byte("hash-1"), now, db.NewSession{TokenHash: []byte("s1"), TTL: time.Hour, IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if out := req(fmt.Sprintf("203.0.113.%d", i)); out.RetryAfter != 0 {
			t.Fatalf("attacker request %d refused below the ceiling", i+1)
		}
	}
	if out := req("203.0.113.99"); out.RetryAfter == 0 {
		t.Fatal("the per-email ceiling did not hold an attacker back")
	}
	if out := req("198.51.100.7"); out.RetryAfter == 0 {
		t.Fatal("a new network was not held back by the ceiling")
	}
	if out := req("192.0.2.1"); out.RetryAfter != 0 || !mints(out, "hash-2") {
		t.Fatalf("the member at home was locked out: %+v", out)
	}
}

func TestDisabledMemberGetsNoLinkEvenWithAnInvite(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	admin, _ := d.CreateUser(ctx, "boss@example.org", "Boss", db.RoleAdmin)
	u, _ := d.CreateUser(ctx, "gone@example.org", "Gone", db.RoleMember)
	if err := d.DisableUser(ctx, u.ID, now); err != nil {
		t.Fatal(err)
	}
	inv, err := d.CreateInvite(ctx, []byte("invite-hash"), admin.ID, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, invite := range []*uuid.UUID{nil, &inv.ID} {
		out, err := d.RequestLink(ctx, db.LinkRequest{Email: u.Email, IP: "192.0.2.5", InviteID: invite,
			Now: now, TTL: time.Minute, Limits: testLimits})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := d.MintLink(ctx, out.ID, []byte(fmt.Sprint("t", invite != nil)), now); ok || err != nil {
			t.Fatalf("disabled member, invite %v: ok %v, %v; want nothing to mail", invite != nil, ok, err)
		}
	}
}

func TestConsumeLinkRejectsStrangerRows(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Now()
	hash := []byte("stranger-hash-32-bytes-long.....")
	out, err := d.RequestLink(ctx, db.LinkRequest{Email: "nobody@example.org", IP: "10.1.1.1",
		Now: now, TTL: time.Minute, Limits: testLimits})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.MintLink(ctx, out.ID, hash, now); ok || err != nil {
		t.Fatalf("stranger request: ok %v, %v; want nothing to mail", ok, err)
	}
	_, _, err = d.ConsumeLink(ctx, hash, now, db.NewSession{TokenHash: []byte("s"), TTL: time.Hour})
	if !errors.Is(err, db.ErrLinkInvalid) {
		t.Fatalf("consume a stranger's row: err = %v, want ErrLinkInvalid", err)
	}
}

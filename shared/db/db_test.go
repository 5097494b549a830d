package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
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

func TestRateLimitCountsEveryoneAndReportsRetryAfter(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	req := func(email, ip string, at time.Time) db.LinkOutcome {
		t.Helper()
		out, err := d.RequestLink(ctx, db.LinkRequest{
			Email: email, IP: ip, TokenHash: []byte(email + ip + at.String()), Now: at, TTL: 10 * time.Minute,
			PerEmail: db.Limit{Max: 3, Window: time.Hour}, PerIP: db.Limit{Max: 5, Window: time.Hour},
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
	out := req("x@example.org", "10.0.0.2", now.Add(10*time.Minute))
	if want := 50 * time.Minute; out.RetryAfter != want {
		t.Fatalf("4th request per email: RetryAfter = %v, want %v", out.RetryAfter, want)
	}
	if out := req("x@example.org", "10.0.0.2", now.Add(61*time.Minute)); out.RetryAfter != 0 {
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

func TestConsumeLinkRejectsStrangerRows(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Now()
	hash := []byte("stranger-hash-32-bytes-long.....")
	out, err := d.RequestLink(ctx, db.LinkRequest{Email: "nobody@example.org", IP: "10.1.1.1", TokenHash: hash,
		Now: now, TTL: time.Minute, PerEmail: db.Limit{Max: 3, Window: time.Hour}, PerIP: db.Limit{Max: 3, Window: time.Hour}})
	if err != nil || out.Deliver || out.User != nil {
		t.Fatalf("stranger request: %+v, %v; want no delivery", out, err)
	}
	_, err = d.ConsumeLink(ctx, hash, now, db.NewSession{TokenHash: []byte("s"), TTL: time.Hour})
	if !errors.Is(err, db.ErrLinkInvalid) {
		t.Fatalf("consume a stranger's row: err = %v, want ErrLinkInvalid", err)
	}
}

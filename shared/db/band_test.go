package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
)

// TestTwoAdminsUnmakingEachOtherLeaveOne: two admins, each in a process of
// their own, take the other's admin role at the same moment, round after
// round. The lock serialises them: the first wins, the second is no longer
// an admin when its turn comes, and the band always keeps one admin.
func TestTwoAdminsUnmakingEachOtherLeaveOne(t *testing.T) {
	ctx := context.Background()
	url := dbtest.NewURL(t)
	setup := dbtest.OpenMigrated(t, url)
	pools := [2]*db.DB{dbtest.Open(t, url), dbtest.Open(t, url)}
	a, _ := setup.CreateUser(ctx, "a@band.example", "A", db.RoleAdmin)
	b, _ := setup.CreateUser(ctx, "b@band.example", "B", db.RoleAdmin)
	member := db.RoleMember
	for round := range 30 {
		if _, err := setup.Pool().Exec(ctx, `UPDATE users SET role = 'admin'`); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i, pair := range [2][2]*db.User{{&a, &b}, {&b, &a}} {
			wg.Go(func() {
				<-start
				errs[i] = pools[i].ChangeMember(ctx, pair[0].ID, pair[1].ID, db.MemberChange{Role: &member}, time.Now())
			})
		}
		close(start)
		wg.Wait()
		var admins int
		setup.Pool().QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin'`).Scan(&admins)
		failed := 0
		for _, err := range errs {
			switch {
			case err == nil:
			case errors.Is(err, db.ErrNotAdmin), errors.Is(err, db.ErrLastAdmin):
				failed++
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if admins != 1 || failed != 1 {
			t.Fatalf("round %d: %d admins left, %d refused (%v); want 1 and 1", round, admins, failed, errs)
		}
	}
}

// TestDisableEndsSessionsAndLinks: disabling a member ends their sessions
// and kills their unused links in the same transaction; enabling them again
// brings back neither (they sign in anew), only the right to.
func TestDisableEndsSessionsAndLinks(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	boss, _ := d.CreateUser(ctx, "boss@band.example", "Boss", db.RoleAdmin)
	u, _ := d.CreateUser(ctx, "gone@band.example", "Gone", db.RoleMember)
	other, _ := d.CreateUser(ctx, "stays@band.example", "Stays", db.RoleMember)
	for i, who := range []db.User{u, u, other} {
		if _, err := d.Pool().Exec(ctx, `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
			VALUES (gen_random_uuid(), $1, $2, $3, $4, $3)`, []byte{byte(i)}, who.ID, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Pool().Exec(ctx, `INSERT INTO login_tokens (id, token_hash, user_id, email, created_at, expires_at, request_ip)
			VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, '192.0.2.1')`, []byte{byte(10 + i)}, who.ID, who.Email, now, now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	count := func(sql string, id any) int {
		var n int
		if err := d.Pool().QueryRow(ctx, sql, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// An admin about to be disabled has made two invites: one used, one
	// not yet.
	second, _ := d.CreateUser(ctx, "second@band.example", "Second", db.RoleAdmin)
	unused, err := d.CreateInvite(ctx, []byte("unused invite"), second.ID, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	used, _ := d.CreateInvite(ctx, []byte("used invite"), second.ID, now, time.Hour)
	if _, err := d.Pool().Exec(ctx, `UPDATE invites SET used_at = $2, used_by = $3 WHERE id = $1`, used.ID, now, other.ID); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	if err := d.ChangeMember(ctx, boss.ID, u.ID, db.MemberChange{Disabled: &yes}, now); err != nil {
		t.Fatal(err)
	}
	if err := d.ChangeMember(ctx, boss.ID, second.ID, db.MemberChange{Disabled: &yes}, now); err != nil {
		t.Fatal(err)
	}
	for _, inv := range []struct {
		id      any
		revoked bool
	}{{unused.ID, true}, {used.ID, false}} {
		if n := count(`SELECT count(*) FROM invites WHERE id = $1 AND revoked_at IS NOT NULL`, inv.id); (n == 1) != inv.revoked {
			t.Errorf("invite %v revoked: %v, want %v", inv.id, n == 1, inv.revoked)
		}
	}
	if n := count(`SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID); n != 0 {
		t.Errorf("%d sessions of the disabled member left, want 0", n)
	}
	if ok, _ := d.LinkUsable(ctx, []byte{10}, now); ok {
		t.Error("the disabled member's link is still usable")
	}
	if n := count(`SELECT count(*) FROM sessions WHERE user_id = $1`, other.ID); n != 1 {
		t.Errorf("another member's sessions: %d, want 1", n)
	}
	if ok, _ := d.LinkUsable(ctx, []byte{12}, now); !ok {
		t.Error("another member's link died too")
	}
	if _, err := d.SessionUser(ctx, []byte{0}, now); !errors.Is(err, db.ErrNoSession) {
		t.Errorf("the disabled member's session: %v, want ErrNoSession", err)
	}
	// A session that slipped in while they were disabled does not come
	// back to life with them.
	if _, err := d.Pool().Exec(ctx, `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
		VALUES (gen_random_uuid(), 'slipped in', $1, $2, $3, $2)`, u.ID, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.ChangeMember(ctx, boss.ID, u.ID, db.MemberChange{Disabled: &no}, now); err != nil {
		t.Fatal(err)
	}
	m, err := d.BandMember(ctx, u.ID)
	if err != nil || m.DisabledAt != nil {
		t.Fatalf("after enabling: %+v, %v; want enabled", m, err)
	}
	if n := count(`SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID); n != 0 {
		t.Errorf("enabling brought back %d sessions", n)
	}
	// DisableUser does the same.
	if err := d.DisableUser(ctx, other.ID, now); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM sessions WHERE user_id = $1`, other.ID); n != 0 {
		t.Errorf("DisableUser left %d sessions", n)
	}
	if err := d.DisableUser(ctx, other.ID, now); !errors.Is(err, db.ErrNoMember) {
		t.Errorf("disabling twice: %v, want ErrNoMember", err)
	}
}

package scores_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/db"
	"bandarchive/shared/routes"
)

// archive mounts scores, upload to fill the archive, and recordings for
// the list sorted by score.
var archive = functions.Mount(nil, routes.Upload, routes.Recordings, routes.Scores)

func TestRankingOrderCountsAndUnscored(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		ann, _ := h.Member("ann@band.example", db.RoleMember)
		bob, _ := h.Member("bob@band.example", db.RoleMember)
		cy, _ := h.Member("cy@band.example", db.RoleAdmin)
		a := ann.UploadOK(map[string]string{"title": "A"}, "a.wav", apptest.WAV(1000, 8000))
		bRec := ann.UploadOK(map[string]string{"title": "B"}, "b.wav", apptest.WAV(1001, 8000))
		c := bob.UploadOK(map[string]string{"title": "C"}, "c.wav", apptest.WAV(1002, 8000))
		d := bob.UploadOK(map[string]string{"title": "D"}, "d.wav", apptest.WAV(1003, 8000))

		ann.Score(a.ID, 5)
		bob.Score(a.ID, 4) // A: 4.5 of 2
		ann.Score(bRec.ID, 5)
		cy.Score(bRec.ID, 3)
		got := cy.Score(bRec.ID, 5) // changed: B: 5 of 2
		if got.Count != 2 || got.Average == nil || *got.Average != 5 || got.MyScore == nil || *got.MyScore != 5 || got.Members != 3 {
			t.Fatalf("after changing a score: %+v", got)
		}
		bob.Score(c.ID, 2) // C: 2 of 1; D unscored

		var p apptest.Page
		r := ann.Call("GET", "/api/scores", nil)
		r.JSON(t, &p)
		if r.Status != http.StatusOK || p.Titles() != "B,A,C,D" || p.Members != 3 {
			t.Fatalf("ranking = %q (members %d), want B,A,C,D of 3", p.Titles(), p.Members)
		}
		first := p.Recordings[0]
		if first.Count != 2 || *first.Average != 5 || first.Members != 3 || first.MyScore == nil || *first.MyScore != 5 {
			t.Errorf("B in the ranking = %+v", first)
		}
		if p.Recordings[3].Average != nil || p.Recordings[3].Count != 0 || p.Recordings[3].MyScore != nil {
			t.Errorf("unscored D = %+v", p.Recordings[3])
		}
		var same apptest.Page
		ann.Call("GET", "/api/recordings?sort=score", nil).JSON(t, &same)
		if same.Titles() != p.Titles() {
			t.Errorf("sort=score %q differs from the ranking %q", same.Titles(), p.Titles())
		}
		for _, c := range []struct {
			who  *apptest.Browser
			want string
		}{{ann, "C,D"}, {bob, "B,D"}, {cy, "A,C,D"}} {
			var u apptest.Page
			c.who.Call("GET", "/api/recordings?unscored=me&sort=title", nil).JSON(t, &u)
			if u.Titles() != c.want {
				t.Errorf("unscored=me: %q, want %q", u.Titles(), c.want)
			}
		}

		// A disabled member's scores no longer count, nor do they.
		var bobUser db.User
		h.DB.Pool().QueryRow(context.Background(), `SELECT id FROM users WHERE email = 'bob@band.example'`).Scan(&bobUser.ID)
		h.DB.DisableUser(context.Background(), bobUser.ID, h.Clock.Now())
		ann.Call("GET", "/api/scores", nil).JSON(t, &p)
		if p.Titles() != "B,A,C,D" && p.Titles() != "B,A,D,C" || p.Members != 2 {
			t.Fatalf("after disabling bob: %q of %d", p.Titles(), p.Members)
		}
		if a2 := p.Recordings[1]; a2.Count != 1 || *a2.Average != 5 {
			t.Errorf("A without bob's score = %+v", a2)
		}

		// Removing my score.
		r = cy.Call("DELETE", "/api/scores/"+bRec.ID, nil)
		var rb apptest.Recording
		r.JSON(t, &rb)
		if r.Status != http.StatusOK || rb.MyScore != nil || rb.Count != 1 {
			t.Errorf("after DELETE score: %d %+v", r.Status, rb)
		}
		_ = d
	})
}

func TestScoreValidation(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		ann, _ := h.Member("ann@band.example", db.RoleMember)
		rec := ann.UploadOK(nil, "a.wav", apptest.WAV(1000, 8000))
		for _, s := range []any{0, 6, 4.5, "x", -1, nil} {
			if r := ann.Call("PUT", "/api/scores/"+rec.ID, map[string]any{"score": s}); r.Status != http.StatusBadRequest {
				t.Errorf("score %v: %d, want 400", s, r.Status)
			}
		}
		for _, id := range []string{"nope", "00000000-0000-0000-0000-000000000000"} {
			if r := ann.Call("PUT", "/api/scores/"+id, map[string]any{"score": 3}); r.Status != http.StatusNotFound {
				t.Errorf("score of %s: %d, want 404", id, r.Status)
			}
		}
		if r := h.Browser("203.0.113.201").Call("PUT", "/api/scores/"+rec.ID, map[string]any{"score": 3}); r.Status != http.StatusUnauthorized {
			t.Errorf("signed-out score: %d, want 401", r.Status)
		}
	})
}

func TestConcurrentScoresLoseNothing(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		const members = 7
		browsers := make([]*apptest.Browser, members)
		for i := range browsers {
			browsers[i], _ = h.Member(fmt.Sprintf("m%d@band.example", i), db.RoleMember)
		}
		rec := browsers[0].UploadOK(nil, "a.wav", apptest.WAV(1000, 8000))
		var wg sync.WaitGroup
		for i, b := range browsers {
			wg.Go(func() {
				for round := range 5 {
					s := 1 + (i+round)%5
					b.Call("PUT", "/api/scores/"+rec.ID, map[string]any{"score": s})
				}
			})
		}
		wg.Wait()
		var r apptest.Recording
		browsers[0].Call("GET", "/api/recordings/"+rec.ID, nil).JSON(t, &r)
		// Each member's last score is 1+(i+4)%5: 5,1,2,3,4,5,1 → 21/7 = 3.
		if r.Count != members || r.Average == nil || *r.Average != 3 {
			t.Fatalf("after concurrent scoring: count %d average %v, want 7 and 3", r.Count, r.Average)
		}
	})
}

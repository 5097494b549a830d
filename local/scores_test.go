package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"bandarchive/shared/apptest"
	"bandarchive/shared/db"
)

type pageJSON struct {
	Recordings []recordingJSON `json:"recordings"`
	NextCursor string          `json:"next_cursor"`
	Members    int             `json:"members"`
}

func titles(p pageJSON) string {
	var ts []string
	for _, r := range p.Recordings {
		ts = append(ts, r.Title)
	}
	return strings.Join(ts, ",")
}

func score(t *testing.T, b *apptest.Browser, id string, s any) recordingJSON {
	t.Helper()
	r := b.Call("PUT", "/api/scores/"+id, map[string]any{"score": s})
	if r.Status != http.StatusOK {
		t.Fatalf("score %s = %v: %d %s", id, s, r.Status, r.Body)
	}
	var rec recordingJSON
	r.JSON(t, &rec)
	return rec
}

func TestRankingOrderCountsAndUnscored(t *testing.T) {
	apptest.Both(t, all, func(t *testing.T, h *apptest.Harness) {
		ann, _ := member(t, h, "ann@band.example", db.RoleMember)
		bob, _ := member(t, h, "bob@band.example", db.RoleMember)
		cy, _ := member(t, h, "cy@band.example", db.RoleAdmin)
		a := uploadFile(t, ann, map[string]string{"title": "A"}, "a.wav", apptest.WAV(1000, 8000))
		bRec := uploadFile(t, ann, map[string]string{"title": "B"}, "b.wav", apptest.WAV(1001, 8000))
		c := uploadFile(t, bob, map[string]string{"title": "C"}, "c.wav", apptest.WAV(1002, 8000))
		d := uploadFile(t, bob, map[string]string{"title": "D"}, "d.wav", apptest.WAV(1003, 8000))

		score(t, ann, a.ID, 5)
		score(t, bob, a.ID, 4) // A: 4.5 of 2
		score(t, ann, bRec.ID, 5)
		score(t, cy, bRec.ID, 3)
		got := score(t, cy, bRec.ID, 5) // changed: B: 5 of 2
		if got.Count != 2 || got.Average == nil || *got.Average != 5 || got.MyScore == nil || *got.MyScore != 5 || got.Members != 3 {
			t.Fatalf("after changing a score: %+v", got)
		}
		score(t, bob, c.ID, 2) // C: 2 of 1; D unscored

		var p pageJSON
		r := ann.Call("GET", "/api/scores", nil)
		r.JSON(t, &p)
		if r.Status != http.StatusOK || titles(p) != "B,A,C,D" || p.Members != 3 {
			t.Fatalf("ranking = %q (members %d), want B,A,C,D of 3", titles(p), p.Members)
		}
		first := p.Recordings[0]
		if first.Count != 2 || *first.Average != 5 || first.Members != 3 || first.MyScore == nil || *first.MyScore != 5 {
			t.Errorf("B in the ranking = %+v", first)
		}
		if p.Recordings[3].Average != nil || p.Recordings[3].Count != 0 || p.Recordings[3].MyScore != nil {
			t.Errorf("unscored D = %+v", p.Recordings[3])
		}
		var same pageJSON
		ann.Call("GET", "/api/recordings?sort=score", nil).JSON(t, &same)
		if titles(same) != titles(p) {
			t.Errorf("sort=score %q differs from the ranking %q", titles(same), titles(p))
		}
		for _, c := range []struct {
			who  *apptest.Browser
			want string
		}{{ann, "C,D"}, {bob, "B,D"}, {cy, "A,C,D"}} {
			var u pageJSON
			c.who.Call("GET", "/api/recordings?unscored=me&sort=title", nil).JSON(t, &u)
			if titles(u) != c.want {
				t.Errorf("unscored=me: %q, want %q", titles(u), c.want)
			}
		}

		// A disabled member's scores no longer count, nor do they.
		var bobUser db.User
		h.DB.Pool().QueryRow(context.Background(), `SELECT id FROM users WHERE email = 'bob@band.example'`).Scan(&bobUser.ID)
		h.DB.DisableUser(context.Background(), bobUser.ID, h.Clock.Now())
		ann.Call("GET", "/api/scores", nil).JSON(t, &p)
		if titles(p) != "B,A,C,D" && titles(p) != "B,A,D,C" || p.Members != 2 {
			t.Fatalf("after disabling bob: %q of %d", titles(p), p.Members)
		}
		if a2 := p.Recordings[1]; a2.Count != 1 || *a2.Average != 5 {
			t.Errorf("A without bob's score = %+v", a2)
		}

		// Removing my score.
		r = cy.Call("DELETE", "/api/scores/"+bRec.ID, nil)
		var rb recordingJSON
		r.JSON(t, &rb)
		if r.Status != http.StatusOK || rb.MyScore != nil || rb.Count != 1 {
			t.Errorf("after DELETE score: %d %+v", r.Status, rb)
		}
		_ = d
	})
}

func TestScoreValidation(t *testing.T) {
	apptest.Both(t, all, func(t *testing.T, h *apptest.Harness) {
		ann, _ := member(t, h, "ann@band.example", db.RoleMember)
		rec := uploadFile(t, ann, nil, "a.wav", apptest.WAV(1000, 8000))
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
	apptest.Both(t, all, func(t *testing.T, h *apptest.Harness) {
		const members = 7
		browsers := make([]*apptest.Browser, members)
		for i := range browsers {
			browsers[i], _ = member(t, h, fmt.Sprintf("m%d@band.example", i), db.RoleMember)
		}
		rec := uploadFile(t, browsers[0], nil, "a.wav", apptest.WAV(1000, 8000))
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
		var r recordingJSON
		browsers[0].Call("GET", "/api/recordings/"+rec.ID, nil).JSON(t, &r)
		// Each member's last score is 1+(i+4)%5: 5,1,2,3,4,5,1 → 21/7 = 3.
		if r.Count != members || r.Average == nil || *r.Average != 3 {
			t.Fatalf("after concurrent scoring: count %d average %v, want 7 and 3", r.Count, r.Average)
		}
	})
}

func TestListSearchAndPaging(t *testing.T) {
	apptest.Both(t, all, func(t *testing.T, h *apptest.Harness) {
		ann, _ := member(t, h, "ann@band.example", db.RoleMember)
		specs := []map[string]string{
			{"title": "Delta", "recorded_date": "2001-05-01", "venue": "Köln Live Music Hall"},
			{"title": "alpha", "recorded_date": "1998-07-14", "notes": "100% take"},
			{"title": "Charlie", "source": "cassette"},
			{"title": "bravo", "recorded_date": "2010-01-01"},
		}
		for i, f := range specs {
			uploadFile(t, ann, f, fmt.Sprintf("file%d.wav", i), apptest.WAV(1000+i, 8000))
			h.Clock.Advance(60e9)
		}
		tests := []struct{ query, want string }{
			{"sort=title", "alpha,bravo,Charlie,Delta"},
			{"sort=recorded", "bravo,Delta,alpha,Charlie"},
			{"sort=uploaded", "bravo,Charlie,alpha,Delta"},
			{"", "bravo,Charlie,alpha,Delta"},
			{"q=köln", "Delta"},
			{"q=KÖLN&sort=title", "Delta"},
			{"q=100%25", "alpha"},
			{"q=%25", "alpha"},
			{"q=_", ""},
			{"q=cassette", "Charlie"},
			{"q=file2", "Charlie"},
		}
		for _, tt := range tests {
			var p pageJSON
			r := ann.Call("GET", "/api/recordings?"+tt.query, nil)
			r.JSON(t, &p)
			if r.Status != http.StatusOK || titles(p) != tt.want {
				t.Errorf("?%s: %d %q, want %q", tt.query, r.Status, titles(p), tt.want)
			}
		}
		var all []string
		cursor := ""
		for pages := 0; pages < 5; pages++ {
			var p pageJSON
			ann.Call("GET", "/api/recordings?sort=title&limit=3&cursor="+cursor, nil).JSON(t, &p)
			all = append(all, titles(p))
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if got := strings.Join(all, "|"); got != "alpha,bravo,Charlie|Delta" {
			t.Errorf("pages = %q, want alpha,bravo,Charlie|Delta", got)
		}
		var p pageJSON
		ann.Call("GET", "/api/recordings?sort=title&limit=3", nil).JSON(t, &p)
		for _, q := range []string{"sort=loudness", "unscored=you", "limit=0", "limit=201", "limit=x", "cursor=!!", "sort=recorded&cursor=" + p.NextCursor} {
			if r := ann.Call("GET", "/api/recordings?"+q, nil); r.Status != http.StatusBadRequest {
				t.Errorf("?%s: %d, want 400", q, r.Status)
			}
		}
	})
}

func TestEditAndDelete(t *testing.T) {
	apptest.Both(t, all, func(t *testing.T, h *apptest.Harness) {
		ann, _ := member(t, h, "ann@band.example", db.RoleMember)
		bob, _ := member(t, h, "bob@band.example", db.RoleMember)
		boss, _ := member(t, h, "boss@band.example", db.RoleAdmin)
		rec := uploadFile(t, ann, map[string]string{"recorded_date": "1998-07-14"}, "a.wav", apptest.WAV(1000, 8000))
		path := "/api/recordings/" + rec.ID

		r := bob.Call("PATCH", path, map[string]any{"venue": " Roxy ", "recorded_date": nil, "notes": "tuned down"})
		var edited recordingJSON
		r.JSON(t, &edited)
		if r.Status != http.StatusOK || edited.Venue != "Roxy" || edited.RecordedDate != nil || edited.Notes != "tuned down" || edited.Title != rec.Title {
			t.Fatalf("PATCH: %d %+v", r.Status, edited)
		}
		for _, bad := range []map[string]any{
			{"title": ""}, {"title": nil}, {"recorded_date": "yesterday"}, {"venue": 5}, {"sha256": "00"}, {"notes": strings.Repeat("n", 10001)},
		} {
			if r := bob.Call("PATCH", path, bad); r.Status != http.StatusBadRequest {
				t.Errorf("PATCH %v: %d, want 400", bad, r.Status)
			}
		}
		if r := bob.Call("PATCH", "/api/recordings/00000000-0000-0000-0000-000000000000", map[string]any{"venue": "x"}); r.Status != http.StatusNotFound {
			t.Errorf("PATCH of nothing: %d, want 404", r.Status)
		}

		score(t, bob, rec.ID, 4)
		if r := bob.Call("DELETE", path, nil); r.Status != http.StatusForbidden {
			t.Fatalf("another member's DELETE: %d, want 403", r.Status)
		}
		if r := ann.Call("DELETE", path, nil); r.Status != http.StatusNoContent {
			t.Fatalf("uploader's DELETE: %d %s", r.Status, r.Body)
		}
		if r := ann.Call("GET", path, nil); r.Status != http.StatusNotFound {
			t.Errorf("GET after delete: %d, want 404", r.Status)
		}
		if n := rowCount(t, h, "scores"); n != 0 {
			t.Errorf("%d scores outlived their recording", n)
		}
		if _, err := os.Stat(filepath.Join(h.Env.Config.Storage.UploadsDir, rec.ID)); !os.IsNotExist(err) {
			t.Errorf("the file outlived its recording: %v", err)
		}
		other := uploadFile(t, bob, nil, "b.wav", apptest.WAV(1001, 8000))
		if r := boss.Call("DELETE", "/api/recordings/"+other.ID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("admin's DELETE: %d", r.Status)
		}
		if left := uploadsLeft(t, h); len(left) != 0 {
			t.Errorf("files left after deleting everything: %v", left)
		}
	})
}

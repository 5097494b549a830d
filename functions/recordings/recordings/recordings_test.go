package recordings_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/db"
	"bandarchive/shared/routes"
)

// archive mounts recordings, upload to fill the archive, and scores.
var archive = functions.Mount(nil, routes.Upload, routes.Recordings, routes.Scores)

func TestListSearchAndPaging(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		ann, _ := h.Member("ann@band.example", db.RoleMember)
		specs := []map[string]string{
			{"title": "Delta", "recorded_date": "2001-05-01", "venue": "Köln Live Music Hall"},
			{"title": "alpha", "recorded_date": "1998-07-14", "notes": "100% take"},
			{"title": "Charlie", "source": "cassette"},
			{"title": "bravo", "recorded_date": "2010-01-01"},
		}
		for i, f := range specs {
			ann.UploadOK(f, fmt.Sprintf("file%d.wav", i), apptest.WAV(1000+i, 8000))
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
			{"sort=-title", "Delta,Charlie,bravo,alpha"},
			{"sort=-recorded", "alpha,Delta,bravo,Charlie"},
			{"year=2001", "Delta"},
			{"source=CASSETTE", "Charlie"},
			{"venue=koln&sort=title", "Delta"},
			{"year=1998&q=take", "alpha"},
		}
		for _, tt := range tests {
			var p apptest.Page
			r := ann.Call("GET", "/api/recordings?"+tt.query, nil)
			r.JSON(t, &p)
			if r.Status != http.StatusOK || p.Titles() != tt.want {
				t.Errorf("?%s: %d %q, want %q", tt.query, r.Status, p.Titles(), tt.want)
			}
			if n := len(p.Recordings); r.Status == http.StatusOK && (p.Total != n || p.UnscoredByMe != n) {
				t.Errorf("?%s: total %d, unscored by me %d; want %d of each", tt.query, p.Total, p.UnscoredByMe, n)
			}
		}
		for _, bad := range []struct{ query, field string }{
			{"year=abc", "year"}, {"year=20030", "year"}, {"sort=--title", "sort"}, {"sort=-", "sort"},
			{"venue=" + strings.Repeat("x", 201), "venue"}, {"source=%00", "source"},
		} {
			r := ann.Call("GET", "/api/recordings?"+bad.query, nil)
			var e struct {
				Error struct{ Field string } `json:"error"`
			}
			r.JSON(t, &e)
			if r.Status != http.StatusBadRequest || e.Error.Field != bad.field {
				t.Errorf("?%.40s: %d field %q, want 400 naming %s", bad.query, r.Status, e.Error.Field, bad.field)
			}
		}
		var all []string
		cursor := ""
		for pages := 0; pages < 5; pages++ {
			var p apptest.Page
			ann.Call("GET", "/api/recordings?sort=title&limit=3&cursor="+cursor, nil).JSON(t, &p)
			all = append(all, p.Titles())
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if got := strings.Join(all, "|"); got != "alpha,bravo,Charlie|Delta" {
			t.Errorf("pages = %q, want alpha,bravo,Charlie|Delta", got)
		}
		var p apptest.Page
		ann.Call("GET", "/api/recordings?sort=title&limit=3", nil).JSON(t, &p)
		for _, q := range []string{"sort=loudness", "unscored=you", "limit=0", "limit=201", "limit=x", "cursor=!!", "sort=recorded&cursor=" + p.NextCursor,
			"q=" + url.QueryEscape(strings.Repeat("ж", 201)), "venue=" + url.QueryEscape(strings.Repeat("ж", 201))} {
			if r := ann.Call("GET", "/api/recordings?"+q, nil); r.Status != http.StatusBadRequest {
				t.Errorf("?%s: %d, want 400", q, r.Status)
			}
		}
		// Limits count characters, not bytes: 200 Cyrillic letters are
		// 400 bytes, and a search or a venue that long is fine.
		for _, q := range []string{"q=" + url.QueryEscape(strings.Repeat("ж", 200)), "venue=" + url.QueryEscape(strings.Repeat("ж", 200))} {
			if r := ann.Call("GET", "/api/recordings?"+q, nil); r.Status != http.StatusOK {
				t.Errorf("?%s: %d %s, want 200", q[:12], r.Status, r.Body)
			}
		}
	})
}

func TestEditAndDelete(t *testing.T) {
	apptest.Both(t, archive, func(t *testing.T, h *apptest.Harness) {
		ann, _ := h.Member("ann@band.example", db.RoleMember)
		bob, _ := h.Member("bob@band.example", db.RoleMember)
		boss, _ := h.Member("boss@band.example", db.RoleAdmin)
		rec := ann.UploadOK(map[string]string{"recorded_date": "1998-07-14"}, "a.wav", apptest.WAV(1000, 8000))
		path := "/api/recordings/" + rec.ID

		r := bob.Call("PATCH", path, map[string]any{"venue": " Roxy ", "recorded_date": nil, "notes": "tuned down"})
		var edited apptest.Recording
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

		bob.Score(rec.ID, 4)
		if r := bob.Call("DELETE", path, nil); r.Status != http.StatusForbidden {
			t.Fatalf("another member's DELETE: %d, want 403", r.Status)
		}
		if r := ann.Call("DELETE", path, nil); r.Status != http.StatusNoContent {
			t.Fatalf("uploader's DELETE: %d %s", r.Status, r.Body)
		}
		if r := ann.Call("GET", path, nil); r.Status != http.StatusNotFound {
			t.Errorf("GET after delete: %d, want 404", r.Status)
		}
		if n := h.RowCount("scores"); n != 0 {
			t.Errorf("%d scores outlived their recording", n)
		}
		if _, err := os.Stat(filepath.Join(h.Parts.Config.Storage.UploadsDir, rec.ID)); !os.IsNotExist(err) {
			t.Errorf("the file outlived its recording: %v", err)
		}
		other := bob.UploadOK(nil, "b.wav", apptest.WAV(1001, 8000))
		if r := boss.Call("DELETE", "/api/recordings/"+other.ID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("admin's DELETE: %d", r.Status)
		}
		// Only the trash holds them, for the backups of the trash
		// retention: each deleted recording's original, once.
		left := h.UploadsLeft()
		for _, id := range []string{rec.ID, other.ID} {
			if n := slices.IndexFunc(left, func(f string) bool {
				return strings.HasPrefix(f, ".trash/"+id+".") && strings.HasSuffix(f, "/original.wav")
			}); n < 0 {
				t.Errorf("the trash lacks %s: %v", id, left)
			}
		}
		if len(left) != 2 {
			t.Errorf("files left after deleting everything: %v, want the two originals in the trash", left)
		}
	})
}

func TestListIsOneQueryWhateverItsLength(t *testing.T) {
	h := apptest.New(t, apptest.HTTP, archive, apptest.Options{})
	users := h.SeedArchive(250, 7)
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

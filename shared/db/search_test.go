package db_test

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
)

// TestSearchMatchesEveryWordAnywhere: every word must match, in any field
// or in the recorded year and month, whatever the accents and case, with a
// small typo forgiven; what a word means in LIKE (%, _) is taken literally.
func TestSearchMatchesEveryWordAnywhere(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	u, err := d.CreateUser(ctx, "ann@example.org", "Ann", db.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	add := func(title, venue, source, notes, file, recorded string) string {
		t.Helper()
		day, err := time.Parse(db.DateLayout, recorded)
		if err != nil {
			t.Fatal(err)
		}
		id := uuid.New()
		sum := sha256.Sum256([]byte(title))
		r := db.Recording{ID: id, Title: title, Venue: venue, Source: source, Notes: notes, OriginalFilename: file,
			Format: "wav", MIMEType: "audio/wav", FileSizeBytes: 1, SHA256: sum[:], UploadedAt: time.Now(),
			UploadedBy: u.ID, RecordedDate: &day}
		if err := d.InsertRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		return title
	}
	add("Lantern", "Paradiso, Amsterdam", "DAT", "", "lantern.wav", "2003-03-14")
	add("Rehearsal", "Köln, Kantine", "cassette", "", "rehearsal_koeln_take_2.wav", "2005-11-02")
	add("Lantern (acoustic)", "Roxy", "MiniDisc", "lantern at soundcheck, 50% slower", "roxy.wav", "2004-03-01")
	for _, tt := range []struct {
		q    string
		want []string // titles, sorted
	}{
		{"lantern 2003", []string{"Lantern"}},
		{"paradiso march", []string{"Lantern"}},
		{"koln", []string{"Rehearsal"}},
		{"KÖLN kantine", []string{"Rehearsal"}},
		{"lantern", []string{"Lantern", "Lantern (acoustic)"}},
		{"lantern march", []string{"Lantern", "Lantern (acoustic)"}},
		{"lantrn", []string{"Lantern", "Lantern (acoustic)"}},
		{"paradsio", []string{"Lantern"}},
		{"novembre", []string{"Rehearsal"}},
		{"take_2", []string{"Rehearsal"}},
		{"50%", []string{"Lantern (acoustic)"}},
		{"lantern 2005", nil},
		{"%", []string{"Lantern (acoustic)"}}, // literally, as in its notes
		{"_", []string{"Rehearsal"}},          // literally, as in its file name
		{"zeppelin", nil},
	} {
		page, err := d.ListRecordings(ctx, db.ListQuery{Viewer: u.ID, Sort: db.SortTitle, Search: tt.q, Limit: 50})
		if err != nil {
			t.Fatalf("search %q: %v", tt.q, err)
		}
		var got []string
		for _, r := range page.Recordings {
			got = append(got, r.Title)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("search %q found [%s], want [%s]", tt.q, strings.Join(got, ", "), strings.Join(tt.want, ", "))
		}
	}
	var indexed bool
	if err := d.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'recordings_search_idx'
		AND indexdef LIKE '%gin_trgm_ops%')`).Scan(&indexed); err != nil || !indexed {
		t.Fatalf("no trigram index for search (%v)", err)
	}
}

// TestRankingWeighsHowManyScored: one 5 does not outrank four scores that
// average 4.5; with as many scores, the higher average ranks first.
func TestRankingWeighsHowManyScored(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	var members []db.User
	for _, name := range []string{"ann", "bob", "cy", "dee"} {
		u, err := d.CreateUser(ctx, name+"@example.org", name, db.RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, u)
	}
	add := func(title string, scores ...int) {
		t.Helper()
		sum := sha256.Sum256([]byte(title))
		id := uuid.New()
		if err := d.InsertRecording(ctx, db.Recording{ID: id, Title: title, OriginalFilename: title + ".wav", Format: "wav",
			MIMEType: "audio/wav", FileSizeBytes: 1, SHA256: sum[:], UploadedAt: time.Now(), UploadedBy: members[0].ID}); err != nil {
			t.Fatal(err)
		}
		for i, s := range scores {
			if err := d.SetScore(ctx, id, members[i].ID, s, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("one five", 5)
	add("four of 4.5", 5, 4, 5, 4)
	add("four of 4", 4, 4, 4, 4)
	add("unscored")
	titles := func(q db.ListQuery) []string {
		t.Helper()
		q.Viewer, q.Limit = members[0].ID, 10
		page, err := d.ListRecordings(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range page.Recordings {
			got = append(got, r.Title)
		}
		return got
	}
	if got, want := titles(db.ListQuery{Sort: db.SortScore}), []string{"four of 4.5", "four of 4", "one five", "unscored"}; !slices.Equal(got, want) {
		t.Fatalf("ranking %q, want %q", got, want)
	}
	// Reversed, the weakest first, and still the unscored last.
	if got, want := titles(db.ListQuery{Sort: "-" + db.SortScore}), []string{"one five", "four of 4", "four of 4.5", "unscored"}; !slices.Equal(got, want) {
		t.Fatalf("ranking reversed %q, want %q", got, want)
	}
}

// TestFiltersAndCounts: year, venue and source narrow the list, every
// sort goes both ways, and the page says how many match in all and how
// many of those the viewer has not scored, whatever page it is.
func TestFiltersAndCounts(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	ann, _ := d.CreateUser(ctx, "ann@example.org", "Ann", db.RoleMember)
	add := func(title, venue, source, recorded string) uuid.UUID {
		t.Helper()
		sum := sha256.Sum256([]byte(title))
		r := db.Recording{ID: uuid.New(), Title: title, Venue: venue, Source: source, OriginalFilename: title + ".wav",
			Format: "wav", MIMEType: "audio/wav", FileSizeBytes: 1, SHA256: sum[:], UploadedAt: time.Now(), UploadedBy: ann.ID}
		if recorded != "" {
			day, _ := time.Parse(db.DateLayout, recorded)
			r.RecordedDate = &day
		}
		if err := d.InsertRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	a := add("Alpha", "Paradiso", "DAT", "2003-03-14")
	add("Bravo", "Melkweg", "cassette", "2003-11-02")
	add("Charlie", "Köln Kantine", "Cassette (type II)", "2004-05-01")
	add("Delta", "", "", "")
	if err := d.SetScore(ctx, a, ann.ID, 4, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q        db.ListQuery
		want     string
		unscored int
	}{
		{db.ListQuery{Sort: db.SortTitle}, "Alpha,Bravo,Charlie,Delta", 3},
		{db.ListQuery{Sort: "-" + db.SortTitle}, "Delta,Charlie,Bravo,Alpha", 3},
		{db.ListQuery{Sort: db.SortRecorded}, "Charlie,Bravo,Alpha,Delta", 3},
		{db.ListQuery{Sort: "-" + db.SortRecorded}, "Alpha,Bravo,Charlie,Delta", 3},
		{db.ListQuery{Sort: db.SortTitle, Year: 2003}, "Alpha,Bravo", 1},
		{db.ListQuery{Sort: db.SortTitle, Source: "CASSETTE"}, "Bravo,Charlie", 2},
		{db.ListQuery{Sort: db.SortTitle, Venue: "koln"}, "Charlie", 1},
		{db.ListQuery{Sort: db.SortTitle, Year: 2003, Source: "dat"}, "Alpha", 0},
		{db.ListQuery{Sort: db.SortTitle, Year: 1999}, "", 0},
	} {
		q := tt.q
		q.Viewer, q.Limit = ann.ID, 2
		var got []string
		page, err := d.ListRecordings(ctx, q)
		for ; err == nil; page, err = d.ListRecordings(ctx, q) {
			for _, r := range page.Recordings {
				got = append(got, r.Title)
			}
			total := len(strings.Split(tt.want, ","))
			if tt.want == "" {
				total = 0
			}
			if len(page.Recordings) > 0 && (page.Total != total || page.Unscored != tt.unscored) {
				t.Errorf("%+v, after %d: %d in all, %d unscored; want %d and %d", tt.q, len(got), page.Total, page.Unscored, total, tt.unscored)
			}
			if page.Next == nil {
				break
			}
			q.After = page.Next
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("%+v: %q, want %q", tt.q, strings.Join(got, ","), tt.want)
		}
	}
}

// Package listing answers the recordings list and the ranking from query
// parameters: sort (a leading "-" reverses it), unscored=me, q, year,
// venue, source, limit and cursor.
package listing

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
)

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Page is one page of recordings as the API answers it.
type Page struct {
	Recordings []db.Recording `json:"recordings"`
	// NextCursor fetches the next page; empty on the last.
	NextCursor string `json:"next_cursor,omitempty"`
	// Members is the number of active members ("of 7").
	Members int `json:"members"`
	// Total is how many recordings the list holds, all pages together;
	// UnscoredByMe how many of those the viewer has not scored.
	Total        int `json:"total"`
	UnscoredByMe int `json:"unscored_by_me"`
}

// Serve answers one page. sort, when not empty, is fixed (the ranking is
// always by score); otherwise it comes from ?sort= (default uploaded).
func Serve(w http.ResponseWriter, r *http.Request, database *db.DB, sort string) error {
	q, err := parse(r, sort)
	if err != nil {
		return err
	}
	found, err := database.ListRecordings(r.Context(), q)
	if err != nil {
		return err
	}
	list := found.Recordings
	page := Page{Recordings: list, Total: found.Total, UnscoredByMe: found.Unscored}
	if page.Recordings == nil {
		page.Recordings = []db.Recording{}
	}
	if found.Next != nil {
		page.NextCursor = found.Next.Encode()
	}
	if len(list) > 0 {
		page.Members = list[0].Scores.Members
	} else if page.Members, err = database.ActiveMembers(r.Context()); err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, page)
}

func parse(r *http.Request, sort string) (db.ListQuery, error) {
	v := r.URL.Query()
	u, _ := auth.UserFrom(r.Context())
	q := db.ListQuery{Viewer: u.ID, Sort: sort, Limit: DefaultLimit, Search: strings.TrimSpace(v.Get("q"))}
	if q.Sort == "" {
		q.Sort = v.Get("sort")
		if q.Sort == "" {
			q.Sort = db.SortUploaded
		}
	}
	if !db.ValidSort(q.Sort) {
		return q, errs.InvalidField("sort", "sort must be one of score, recorded, uploaded, title, each reversed by a leading -.")
	}
	if y := v.Get("year"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < 1900 || n > 2100 {
			return q, errs.InvalidField("year", "year must be a year like 2003.")
		}
		q.Year = n
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"venue", &q.Venue}, {"source", &q.Source}} {
		*f.dst = strings.TrimSpace(v.Get(f.name))
		if utf8.RuneCountInString(*f.dst) > 200 || !utf8.ValidString(*f.dst) || strings.ContainsRune(*f.dst, 0) {
			return q, errs.InvalidField(f.name, "The %s filter must be text of at most 200 characters.", f.name)
		}
	}
	switch v.Get("unscored") {
	case "":
	case "me":
		q.UnscoredByViewer = true
	default:
		return q, errs.InvalidField("unscored", "unscored can only be \"me\".")
	}
	if utf8.RuneCountInString(q.Search) > 200 {
		return q, errs.InvalidField("q", "The search is too long (at most 200 characters).")
	}
	if !utf8.ValidString(q.Search) || strings.ContainsRune(q.Search, 0) {
		return q, errs.InvalidField("q", "The search contains characters that are not text.")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return q, errs.InvalidField("limit", "limit must be a number from 1 to %d.", MaxLimit)
		}
		q.Limit = n
	}
	if c := v.Get("cursor"); c != "" {
		after, err := db.ParseCursor(c, q.Sort)
		if err != nil {
			return q, errs.InvalidField("cursor", "The cursor is not valid for this list; start from the first page.")
		}
		q.After = after
	}
	return q, nil
}

package db

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Sort orders of the recordings list.
const (
	SortScore    = "score"
	SortRecorded = "recorded"
	SortUploaded = "uploaded"
	SortTitle    = "title"
)

// The ranking's weighted (Bayesian) average: a recording's scores count
// together with PriorVotes imagined scores of PriorScore, so a few scores
// move it less than many: one 5 ranks below four 4.5s ((9+5)/4 = 3.5
// against (9+18)/7 = 3.86), while the plain average and the count are
// still what the archive shows.
const (
	PriorScore = 3
	PriorVotes = 3
)

var weightedAverage = fmt.Sprintf(`((%d * %d + s.average * s.count) / (%d + s.count))`, PriorScore, PriorVotes, PriorVotes)

// orderBy maps each sort to its ORDER BY in its natural direction (best,
// newest, A to Z first) and reversed; every one ends in r.id so pages are
// stable, and what has no value (unscored, undated) comes last both ways.
var orderBy = map[string][2]string{
	SortScore: {weightedAverage + ` DESC NULLS LAST, coalesce(s.count, 0) DESC, r.uploaded_at DESC, r.id`,
		weightedAverage + ` ASC NULLS LAST, coalesce(s.count, 0) ASC, r.uploaded_at ASC, r.id`},
	SortRecorded: {`r.recorded_date DESC NULLS LAST, r.uploaded_at DESC, r.id`,
		`r.recorded_date ASC NULLS LAST, r.uploaded_at ASC, r.id`},
	SortUploaded: {`r.uploaded_at DESC, r.id`, `r.uploaded_at ASC, r.id`},
	SortTitle:    {`lower(r.title), r.id`, `lower(r.title) DESC, r.id`},
}

// ValidSort reports whether s is one of the sort orders, reversed by a
// leading "-" ("-title": Z to A).
func ValidSort(s string) bool { _, ok := orderBy[strings.TrimPrefix(s, "-")]; return ok }

// order is the ORDER BY of a sort, reversed by a leading "-".
func order(sort string) (string, bool) {
	name, reversed := strings.CutPrefix(sort, "-")
	o, ok := orderBy[name]
	if !ok {
		return "", false
	}
	if reversed {
		return o[1], true
	}
	return o[0], true
}

// ListQuery selects a page of recordings.
type ListQuery struct {
	Viewer uuid.UUID
	Sort   string
	// UnscoredByViewer keeps only recordings the viewer has not scored.
	UnscoredByViewer bool
	// Search keeps the recordings that match every word, in title, venue,
	// source, notes, file name or the recorded year and month, whatever
	// the case and accents, forgiving a small typo.
	Search string
	// Year keeps the recordings recorded that year (0: any).
	Year int
	// Venue and Source keep the recordings whose venue or source contains
	// them, whatever the case and accents ("" for any).
	Venue, Source string
	Limit         int
	Offset        int
}

// ListPage is one page of the list and what the whole list counts.
type ListPage struct {
	Recordings []Recording
	More       bool // more follow this page
	// Total is how many recordings match; Unscored how many of those the
	// viewer has not scored (both 0 on a page past the end).
	Total, Unscored int
}

// ListRecordings returns one page and whether more follow, in one query.
func (db *DB) ListRecordings(ctx context.Context, q ListQuery) (ListPage, error) {
	order, ok := order(q.Sort)
	if !ok {
		return ListPage{}, fmt.Errorf("list recordings: unknown sort %q", q.Sort)
	}
	var where []string
	args := []any{q.Viewer}
	if q.UnscoredByViewer {
		where = append(where, `mine.score IS NULL`)
	}
	// Every word must be found in the recording's search document (see
	// migration 008): as a substring, or, for a word long enough to hold a
	// typo, by trigram word similarity; the document's trigram index serves
	// both.
	for _, word := range searchWords(q.Search) {
		args = append(args, likeEscape(word))
		cond := fmt.Sprintf(`%s LIKE '%%' || search_normalise($%d) || '%%'`, searchDocument, len(args))
		if forgiving(word) {
			args = append(args, word)
			cond = fmt.Sprintf(`(%s OR search_normalise($%d) OPERATOR(extensions.<%%) %s)`, cond, len(args), searchDocument)
		}
		where = append(where, cond)
	}
	if q.Year != 0 {
		args = append(args, q.Year)
		where = append(where, fmt.Sprintf(`extract(year FROM r.recorded_date) = $%d`, len(args)))
	}
	for _, f := range []struct{ column, value string }{{"r.venue", q.Venue}, {"r.source", q.Source}} {
		if f.value != "" {
			args = append(args, likeEscape(f.value))
			where = append(where, fmt.Sprintf(`search_normalise(%s) LIKE '%%' || search_normalise($%d) || '%%'`, f.column, len(args)))
		}
	}
	// The counts of the whole list come with the page, in the same query.
	sql := strings.Replace(recordingSelect, "\nFROM recordings r",
		",\n\tcount(*) OVER (), count(*) FILTER (WHERE mine.score IS NULL) OVER ()\nFROM recordings r", 1)
	if len(where) > 0 {
		sql += ` WHERE ` + strings.Join(where, ` AND `)
	}
	args = append(args, q.Limit+1, q.Offset)
	sql += fmt.Sprintf(` ORDER BY %s LIMIT $%d OFFSET $%d`, order, len(args)-1, len(args))
	rows, err := db.q.Query(ctx, sql, args...)
	if err != nil {
		return ListPage{}, fmt.Errorf("list recordings: %w", err)
	}
	var page ListPage
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Recording, error) {
		return scanRecording(r, &page.Total, &page.Unscored)
	})
	if err != nil {
		return ListPage{}, fmt.Errorf("list recordings: %w", err)
	}
	page.More = len(list) > q.Limit
	if page.More {
		list = list[:q.Limit]
	}
	page.Recordings = list
	return page, nil
}

// searchDocument is the indexed expression of migration 008.
const searchDocument = `recording_search_document(r.title, r.venue, r.source, r.notes, r.original_filename, r.recorded_date)`

// MaxSearchWords bounds the words of one search.
const MaxSearchWords = 8

// likeEscape makes s match literally inside a LIKE pattern.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// forgiving reports whether a search word may match with a typo: five
// characters or more, and no digit (a year, a take number or "file2" must
// match exactly: 2003 is not a typo of 2004).
func forgiving(word string) bool {
	return utf8.RuneCountInString(word) >= 5 && strings.IndexFunc(word, unicode.IsDigit) < 0
}

// searchWords splits a search into its words, at most MaxSearchWords.
func searchWords(s string) []string {
	words := strings.Fields(s)
	return words[:min(len(words), MaxSearchWords)]
}

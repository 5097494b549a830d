package db

import (
	"context"
	"fmt"
	"slices"
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

// A sort is its keys, in their natural direction (best, newest, A to Z
// first); every one ends in r.id, so each row has a place of its own, and
// what has no value (unscored, undated) comes last both ways. A page
// starts after the keys of the previous page's last row (a keyset
// cursor): a list that changes while it is paged (a recording scored
// out of "not yet scored by me", one uploaded meanwhile) neither skips
// nor repeats what stays in it, as an offset would.
type sortKey struct {
	expr     string // over r (recordings) and s (scores)
	desc     bool   // in the natural direction; reversing flips it, except the id's
	nullable bool
	kind     keyKind
}

type keyKind int

const (
	keyFloat keyKind = iota
	keyInt
	keyTime
	keyDate
	keyText
	keyUUID
)

var (
	keyID       = sortKey{"r.id", false, false, keyUUID}
	keyUploaded = sortKey{"r.uploaded_at", true, false, keyTime}
)

var sortKeys = map[string][]sortKey{
	SortScore:    {{weightedAverage, true, true, keyFloat}, {"coalesce(s.count, 0)", true, false, keyInt}, keyUploaded, keyID},
	SortRecorded: {{"r.recorded_date", true, true, keyDate}, keyUploaded, keyID},
	SortUploaded: {keyUploaded, keyID},
	SortTitle:    {{"lower(r.title)", false, false, keyText}, keyID},
}

// ValidSort reports whether s is one of the sort orders, reversed by a
// leading "-" ("-title": Z to A).
func ValidSort(s string) bool { _, ok := sortKeys[strings.TrimPrefix(s, "-")]; return ok }

// keysOf returns a sort's keys in the direction asked, reversed by a
// leading "-".
func keysOf(sort string) ([]sortKey, bool) {
	name, reversed := strings.CutPrefix(sort, "-")
	keys, ok := sortKeys[name]
	if !ok || !reversed {
		return keys, ok
	}
	out := slices.Clone(keys)
	for i := range out {
		if out[i] != keyID {
			out[i].desc = !out[i].desc
		}
	}
	return out, true
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
	// After is the cursor of the previous page (nil: the first page).
	After *Cursor
}

// ListPage is one page of the list and what the whole list counts.
type ListPage struct {
	Recordings []Recording
	// Next is the cursor of the following page; nil on the last.
	Next *Cursor
	// Total is how many recordings match; Unscored how many of those the
	// viewer has not scored (both 0 on a page past the end).
	Total, Unscored int
}

// ListRecordings returns one page and the cursor of the next, in one
// query.
func (db *DB) ListRecordings(ctx context.Context, q ListQuery) (ListPage, error) {
	keys, ok := keysOf(q.Sort)
	if !ok {
		return ListPage{}, fmt.Errorf("list recordings: unknown sort %q", q.Sort)
	}
	// ParseCursor ties a client's cursor to its sort; this guards the Go
	// callers that pass one on, so a cursor of another sort is an error,
	// not a panic.
	if q.After != nil && (q.After.sort != q.Sort || len(q.After.keys) != len(keys)) {
		return ListPage{}, fmt.Errorf("list recordings: a cursor of another sort")
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
	// The counts of the whole list, and each row's sort keys, come with
	// the page in the same query; the cursor applies outside, after the
	// counts.
	extra := []string{"count(*) OVER ()", "count(*) FILTER (WHERE mine.score IS NULL) OVER ()"}
	var orderBy []string
	for i, k := range keys {
		extra = append(extra, fmt.Sprintf("%s AS k%d", k.expr, i))
		dir := "ASC"
		if k.desc {
			dir = "DESC"
		}
		orderBy = append(orderBy, fmt.Sprintf("k%d %s NULLS LAST", i, dir))
	}
	inner := `SELECT ` + recordingColumns + `, ` + strings.Join(extra, ", ") + recordingFrom
	if len(where) > 0 {
		inner += ` WHERE ` + strings.Join(where, ` AND `)
	}
	sql := `SELECT * FROM (` + inner + `) list`
	if q.After != nil {
		var after string
		after, args = q.After.condition(keys, args)
		sql += ` WHERE ` + after
	}
	args = append(args, q.Limit+1)
	sql += fmt.Sprintf(` ORDER BY %s LIMIT $%d`, strings.Join(orderBy, ", "), len(args))
	rows, err := db.q.Query(ctx, sql, args...)
	if err != nil {
		return ListPage{}, fmt.Errorf("list recordings: %w", err)
	}
	var page ListPage
	var rowKeys [][]any // each row's sort keys, as scanned
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Recording, error) {
		dests := keyDests(keys)
		rowKeys = append(rowKeys, dests)
		return scanRecording(r, append([]any{&page.Total, &page.Unscored}, dests...)...)
	})
	if err != nil {
		return ListPage{}, fmt.Errorf("list recordings: %w", err)
	}
	if len(list) > q.Limit {
		list = list[:q.Limit]
		page.Next = newCursor(q.Sort, keys, rowKeys[q.Limit-1])
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

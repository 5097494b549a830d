package db

import (
	"context"
	"fmt"
	"strings"

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

// orderBy maps each sort to its ORDER BY; every one ends in r.id so pages
// are stable.
var orderBy = map[string]string{
	SortScore:    `s.average DESC NULLS LAST, coalesce(s.count, 0) DESC, r.uploaded_at DESC, r.id`,
	SortRecorded: `r.recorded_date DESC NULLS LAST, r.uploaded_at DESC, r.id`,
	SortUploaded: `r.uploaded_at DESC, r.id`,
	SortTitle:    `lower(r.title), r.id`,
}

// ValidSort reports whether s is one of the sort orders.
func ValidSort(s string) bool { _, ok := orderBy[s]; return ok }

// ListQuery selects a page of recordings.
type ListQuery struct {
	Viewer uuid.UUID
	Sort   string
	// UnscoredByViewer keeps only recordings the viewer has not scored.
	UnscoredByViewer bool
	// Search matches title, venue, source, notes and file name, any case.
	Search string
	Limit  int
	Offset int
}

// ListRecordings returns one page and whether more follow, in one query.
func (db *DB) ListRecordings(ctx context.Context, q ListQuery) ([]Recording, bool, error) {
	order, ok := orderBy[q.Sort]
	if !ok {
		return nil, false, fmt.Errorf("list recordings: unknown sort %q", q.Sort)
	}
	var where []string
	args := []any{q.Viewer}
	if q.UnscoredByViewer {
		where = append(where, `mine.score IS NULL`)
	}
	if q.Search != "" {
		args = append(args, "%"+likeEscape(q.Search)+"%")
		n := fmt.Sprintf("$%d", len(args))
		where = append(where, `(r.title ILIKE `+n+` OR r.venue ILIKE `+n+` OR r.source ILIKE `+n+
			` OR r.notes ILIKE `+n+` OR r.original_filename ILIKE `+n+`)`)
	}
	sql := recordingSelect
	if len(where) > 0 {
		sql += ` WHERE ` + strings.Join(where, ` AND `)
	}
	args = append(args, q.Limit+1, q.Offset)
	sql += fmt.Sprintf(` ORDER BY %s LIMIT $%d OFFSET $%d`, order, len(args)-1, len(args))
	rows, err := db.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list recordings: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Recording, error) { return scanRecording(r) })
	if err != nil {
		return nil, false, fmt.Errorf("list recordings: %w", err)
	}
	more := len(list) > q.Limit
	if more {
		list = list[:q.Limit]
	}
	return list, more, nil
}

// likeEscape makes s match literally inside an ILIKE pattern.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

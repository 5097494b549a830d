package storage

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Exists reports whether a row exists.
type Exists func(context.Context, uuid.UUID) (bool, error)

// Rows tell the sweep what the database holds.
type Rows struct {
	// Recording reports whether a recording's row exists.
	Recording Exists
	// Upload reports whether a resumable upload is still wanted
	// (unfinished and unexpired).
	Upload Exists
}

// Sweep tidies the directory: whatever no live writer holds (its lock is
// free) and is older than grace is settled. Temporary files (uploads a
// crash or a kill interrupted) are removed, and so are the files of
// resumable uploads that expired or are gone; recording directories without
// a row (a crash between the rename and the insert) are removed. Hidden
// recordings (the trash) are restored when their row exists (a deletion
// that was interrupted, or a restored database dump taken before the
// deletion), and removed once older than keep when it does not. Processes
// sharing the folder may sweep at once: each step tolerates the others'.
func (s *Store) Sweep(ctx context.Context, rows Rows, now time.Time, grace, keep time.Duration, log *slog.Logger) error {
	stale := func(path string) bool { return older(path, now, grace) }
	tmps, err := os.ReadDir(filepath.Join(s.dir, tmpDir))
	if err != nil {
		return err
	}
	for _, e := range tmps {
		path := filepath.Join(s.dir, tmpDir, e.Name())
		if stale(path) && !locked(path) {
			if err := os.Remove(path); err == nil {
				log.Info("removed the temporary file of an interrupted upload", "file", e.Name())
			}
		}
	}

	partials, err := os.ReadDir(filepath.Join(s.dir, partialDir))
	if err != nil {
		return err
	}
	for _, e := range partials {
		id, err := uuid.Parse(e.Name())
		path := filepath.Join(s.dir, partialDir, e.Name())
		if err != nil || !stale(path) || locked(path) {
			continue
		}
		live, err := rows.Upload(ctx, id)
		if err != nil {
			return err
		}
		if !live && os.Remove(path) == nil {
			log.Info("removed the file of an expired or cancelled upload", "upload", id)
		}
	}

	trash, err := os.ReadDir(filepath.Join(s.dir, trashDir))
	if err != nil {
		return err
	}
	for _, e := range trash {
		name, _, _ := strings.Cut(e.Name(), ".")
		id, err := uuid.Parse(name)
		path := filepath.Join(s.dir, trashDir, e.Name())
		if err != nil || !stale(path) || originalLocked(path) {
			continue
		}
		ok, err := rows.Recording(ctx, id)
		if err != nil {
			return err
		}
		h := &Hidden{id: id, s: s, path: path}
		switch {
		case ok:
			if err := h.Restore(); err == nil {
				log.Info("restored a recording whose row exists (an interrupted deletion, or a restored backup)", "id", id)
			}
		case older(path, now, keep):
			if err := h.Purge(); err != nil {
				return err
			}
		}
	}

	dirs, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range dirs {
		id, err := uuid.Parse(e.Name())
		path := filepath.Join(s.dir, e.Name())
		if err != nil || !e.IsDir() || !stale(path) || originalLocked(path) {
			continue
		}
		ok, err := rows.Recording(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			if err := os.RemoveAll(path); err != nil {
				return err
			}
			log.Warn("removed a recording directory that had no row", "id", id)
		}
	}
	return nil
}

// older reports whether path was last changed more than d before now.
func older(path string, now time.Time, d time.Duration) bool {
	info, err := os.Stat(path)
	return err == nil && now.Sub(info.ModTime()) > d
}

func originalLocked(dir string) bool {
	names, _ := filepath.Glob(filepath.Join(dir, "original.*"))
	for _, n := range names {
		if locked(n) {
			return true
		}
	}
	return false
}

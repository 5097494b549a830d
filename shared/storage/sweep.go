package storage

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Exists reports whether the row of a recording exists.
type Exists func(context.Context, uuid.UUID) (bool, error)

// Sweep tidies the directory: whatever no live writer holds (its lock is
// free) and is older than grace is settled. Temporary files (uploads a
// crash or a kill interrupted) are removed; hidden recordings are restored
// when their row still exists and removed otherwise (a deletion that was
// interrupted); recording directories without a row (a crash between the
// rename and the insert) are removed. Processes sharing the folder may
// sweep at once: each step tolerates the others'.
func (s *Store) Sweep(ctx context.Context, exists Exists, now time.Time, grace time.Duration, log *slog.Logger) error {
	stale := func(path string) bool {
		info, err := os.Stat(path)
		return err == nil && now.Sub(info.ModTime()) > grace
	}
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
		ok, err := exists(ctx, id)
		if err != nil {
			return err
		}
		h := &Hidden{id: id, s: s, path: path}
		if ok {
			if err := h.Restore(); err == nil {
				log.Info("restored a recording whose deletion was interrupted", "id", id)
			}
		} else if err := h.Purge(); err != nil {
			return err
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
		ok, err := exists(ctx, id)
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

func originalLocked(dir string) bool {
	names, _ := filepath.Glob(filepath.Join(dir, "original.*"))
	for _, n := range names {
		if locked(n) {
			return true
		}
	}
	return false
}

// SweepEvery sweeps now and then every interval until ctx ends, logging
// what fails (the database may be away for a while; the next sweep
// retries).
func (s *Store) SweepEvery(ctx context.Context, interval, grace time.Duration, exists Exists, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Sweep(ctx, exists, now(), grace, log); err != nil && ctx.Err() == nil {
			log.Warn("sweeping the uploads directory failed", "err", fmt.Sprint(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

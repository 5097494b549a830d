package storage

import (
	"bufio"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/google/uuid"

	"bandarchive/shared/errs"
)

// ErrBusy is a partial file another request (in any process sharing the
// folder) is writing right now.
var ErrBusy = errs.Errorf(errs.Locked, "Another request is writing this upload right now; try again in a moment.")

// Partial is the file of a resumable upload, locked by the one request
// that writes it, until Close.
type Partial struct {
	path string
	f    *os.File
}

// partialPath is where upload id's bytes wait.
func (s *Store) partialPath(id uuid.UUID) string {
	return filepath.Join(s.dir, partialDir, id.String())
}

// OpenPartial opens, creating it if need be, the file of resumable upload
// id and locks it; ErrBusy when another request holds it.
func (s *Store) OpenPartial(id uuid.UUID) (*Partial, error) {
	path := s.partialPath(id)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, noSpace(err, "open partial upload")
	}
	if err := lock(f); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("lock partial upload: %w", err)
	}
	return &Partial{path: path, f: f}, nil
}

// RemovePartial removes the file of upload id if nobody writes it; ErrBusy
// otherwise.
func (s *Store) RemovePartial(id uuid.UUID) error {
	p, err := s.OpenPartial(id)
	if err != nil {
		return err
	}
	return p.Remove()
}

// Append writes what r brings at offset, through h, and makes it durable:
// first whatever lies past offset (bytes written once but never
// acknowledged) is dropped. It returns how many bytes are now on disk past
// offset. A failure to write is the disk's (InsufficientStorage); a failure
// to read r comes back too, after what did arrive is on disk, so the
// caller can acknowledge it.
func (p *Partial) Append(offset int64, r io.Reader, h hash.Hash) (int64, error) {
	if err := p.f.Truncate(offset); err != nil {
		return 0, noSpace(err, "truncate partial upload")
	}
	if _, err := p.f.Seek(offset, io.SeekStart); err != nil {
		return 0, fmt.Errorf("seek partial upload: %w", err)
	}
	w := &writeFault{w: bufio.NewWriterSize(struct{ io.Writer }{p.f}, bufferSize)}
	n, copyErr := io.Copy(io.MultiWriter(w, h), r)
	if w.err != nil {
		return 0, noSpace(w.err, "write partial upload")
	}
	if err := w.w.Flush(); err != nil {
		return 0, noSpace(err, "write partial upload")
	}
	if err := p.f.Sync(); err != nil {
		return 0, noSpace(err, "sync partial upload")
	}
	return n, copyErr
}

// writeFault remembers a write error, to tell it from a read error.
type writeFault struct {
	w   *bufio.Writer
	err error
}

func (w *writeFault) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// ReadAt reads the partial file (its first bytes decide the format).
func (p *Partial) ReadAt(b []byte, off int64) (int, error) { return p.f.ReadAt(b, off) }

// Close releases the lock.
func (p *Partial) Close() error { return p.f.Close() }

// Remove deletes the file and releases the lock.
func (p *Partial) Remove() error {
	err := os.Remove(p.path)
	p.f.Close()
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Upload hands a complete partial file to the finishing step, as an
// Upload of size bytes whose SHA-256 is sum. The lock goes with it. Unlike
// a one-request upload, Abort keeps the file where it is, so finishing can
// be tried again.
func (p *Partial) Upload(s *Store, sum []byte, size int64) *Upload {
	return &Upload{s: s, f: p.f, sum: sum, size: size, partial: p.path}
}

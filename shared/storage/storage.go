// Package storage keeps recordings on the filesystem, atomically: an
// upload is streamed to a temporary file in the uploads directory, hashed
// on the way, fsynced, and renamed to UPLOADS_DIR/{id}/original.{ext} in
// one step, so a reader never sees half a file.
//
// Whoever writes holds an exclusive lock (flock) on the file it writes, so
// a sweep, in this process or another sharing the folder, can tell the
// leftovers of a process that died (unlocked) from work in progress
// (locked) at any time, not only at start-up.
package storage

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/google/uuid"

	"bandarchive/shared/errs"
)

const (
	tmpDir     = ".tmp"     // one-request uploads in progress
	partialDir = ".partial" // resumable uploads in progress
	trashDir   = ".trash"   // recordings being deleted
	// bufferSize batches the multipart reader's small pieces (4 KiB at
	// most) into large writes; measured on these machines it lifts
	// throughput by half.
	bufferSize = 64 << 10
)

// Store is the uploads directory.
type Store struct {
	dir string
}

// Open prepares dir (creating it and its working folders).
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("UPLOADS_DIR is required but not set")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{abs, filepath.Join(abs, tmpDir), filepath.Join(abs, partialDir), filepath.Join(abs, trashDir)} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("prepare uploads directory: %w", err)
		}
	}
	return &Store{dir: abs}, nil
}

// Dir is the uploads directory.
func (s *Store) Dir() string { return s.dir }

// FileName is the stored name of a recording's original.
func FileName(ext string) string { return "original." + ext }

// RelPath is the original's path below the uploads directory, as Nginx's
// internal location sees it.
func RelPath(id uuid.UUID, ext string) string { return id.String() + "/" + FileName(ext) }

// Path is the original's absolute path.
func (s *Store) Path(id uuid.UUID, ext string) string {
	return filepath.Join(s.dir, id.String(), FileName(ext))
}

// CopyName is the stored name of a recording's listening copy.
func CopyName(ext string) string { return "listen." + ext }

// RelCopyPath is the listening copy's path below the uploads directory.
func RelCopyPath(id uuid.UUID, ext string) string { return id.String() + "/" + CopyName(ext) }

// CopyPath is the listening copy's absolute path. Its writer (package
// media) makes it whole or not at all, beside the original.
func (s *Store) CopyPath(id uuid.UUID, ext string) string {
	return filepath.Join(s.dir, id.String(), CopyName(ext))
}

// Open opens a recording's original for reading.
func (s *Store) Open(id uuid.UUID, ext string) (*os.File, error) {
	return os.Open(s.Path(id, ext))
}

// noSpace is the answer to any failure to write the uploads directory: a
// full disk above all, or a folder that cannot be written. Either way the
// member can do nothing about it but wait, and the admin must know.
func noSpace(err error, doing string) error {
	return errs.Wrap(errs.InsufficientStorage, fmt.Errorf("%s: %w", doing, err),
		"The archive is out of space and cannot store this file now. Nothing was kept; please tell the band's admin.")
}

// Upload is a file being received. Write streams into it while hashing;
// Flush makes it durable; Commit moves it into place; then Keep releases
// it for good, or Abort removes whatever it left. Until then it holds an
// exclusive lock on its file, which tells the sweeps it is alive.
type Upload struct {
	s         *Store
	f         *os.File
	w         *bufio.Writer // nil for a finished partial: written already
	hash      hash.Hash
	sum       []byte // a finished partial's, hashed chunk by chunk
	size      int64
	partial   string // a resumable upload's file, which Abort keeps
	committed string // the recording directory, once committed
	// committedFile is the file's name there (the open file, and its lock,
	// moved with it; os.File keeps the old name).
	committedFile string
	done          bool
}

// Create starts an upload in the uploads directory's temporary folder (on
// the same filesystem, so the final rename is atomic).
func (s *Store) Create() (*Upload, error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, tmpDir), "upload-*")
	if err != nil {
		return nil, noSpace(err, "create temporary file")
	}
	if err := lock(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("lock temporary file: %w", err)
	}
	// struct{ io.Writer } hides (*os.File).ReadFrom, which bufio would
	// otherwise hand the copy to, bypassing the buffer.
	return &Upload{s: s, f: f, w: bufio.NewWriterSize(struct{ io.Writer }{f}, bufferSize), hash: sha256.New()}, nil
}

// Write appends p to the file and the hash. A failure is the disk's, never
// the client's: it is marked InsufficientStorage.
func (u *Upload) Write(p []byte) (int, error) {
	n, err := u.w.Write(p)
	u.hash.Write(p[:n])
	u.size += int64(n)
	if err != nil {
		return n, noSpace(err, "write upload")
	}
	return n, nil
}

// Size is the number of bytes written.
func (u *Upload) Size() int64 { return u.size }

// Sum is the SHA-256 of what was written.
func (u *Upload) Sum() []byte {
	if u.sum != nil {
		return u.sum
	}
	return u.hash.Sum(nil)
}

// Flush writes out the buffer and syncs the file to disk, after which the
// file can be read back with ReadAt.
func (u *Upload) Flush() error {
	if u.w == nil {
		return nil // a finished partial: each chunk was synced
	}
	if err := u.w.Flush(); err != nil {
		return noSpace(err, "write upload")
	}
	if err := u.f.Sync(); err != nil {
		return noSpace(err, "sync upload")
	}
	return nil
}

// ReadAt reads the flushed file, for probing its headers.
func (u *Upload) ReadAt(p []byte, off int64) (int, error) { return u.f.ReadAt(p, off) }

// Commit moves the flushed upload to its final place and syncs the
// directories, so the rename survives a crash. The file stays locked until
// Keep or Abort: a sweep leaves the new directory alone while its row is
// being written.
func (u *Upload) Commit(id uuid.UUID, ext string) error {
	dir := filepath.Join(u.s.dir, id.String())
	if err := os.Mkdir(dir, 0o750); err != nil {
		return noSpace(err, "create recording directory")
	}
	name := filepath.Join(dir, FileName(ext))
	if err := os.Rename(u.f.Name(), name); err != nil {
		os.Remove(dir)
		return noSpace(err, "move upload into place")
	}
	u.committed, u.committedFile = dir, name
	if err := errors.Join(syncDir(dir), syncDir(u.s.dir)); err != nil {
		return noSpace(err, "sync recording directory")
	}
	return nil
}

// Keep ends the upload with its file in place: the row that names it is
// written.
func (u *Upload) Keep() error {
	if u.done {
		return nil
	}
	u.done = true
	return u.f.Close()
}

// Abort removes what the upload left, the temporary file or the committed
// directory; after Keep it does nothing, so callers can defer it. The file
// of a resumable upload is kept (put back, if it was committed): its bytes
// are acknowledged, and finishing can be tried again.
func (u *Upload) Abort() {
	if u.done {
		return
	}
	u.done = true
	defer u.f.Close()
	if u.partial != "" {
		if u.committed != "" {
			os.Rename(u.committedFile, u.partial)
			os.RemoveAll(u.committed)
		}
		return
	}
	if u.committed != "" {
		os.RemoveAll(u.committed)
	} else {
		os.Remove(u.f.Name())
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Hidden is a recording's directory moved aside while its row is deleted:
// Discard leaves it in the trash once the deletion is committed (the sweep
// removes it after the trash retention), Restore puts it back if the
// deletion fails. It holds the lock of the original meanwhile, so a sweep
// neither restores nor purges it under the deleter's feet.
type Hidden struct {
	id   uuid.UUID
	s    *Store
	path string   // in the trash; "" when there was nothing to hide
	lock *os.File // the original, locked
}

// Hide moves a recording's directory into the trash under a name of its
// own, so two deletions of one recording never touch each other's files.
// A recording without a directory hides nothing: its row goes anyway.
func (s *Store) Hide(id uuid.UUID) (*Hidden, error) {
	h := &Hidden{id: id, s: s}
	dir := filepath.Join(s.dir, id.String())
	if f, err := openOriginal(dir); err == nil {
		if err := lock(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock recording %s: %w", id, err)
		}
		h.lock = f
	}
	path := filepath.Join(s.dir, trashDir, id.String()+"."+randomSuffix())
	err := os.Rename(dir, path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		h.release()
		return h, nil
	case err != nil:
		h.release()
		return nil, fmt.Errorf("hide recording %s: %w", id, err)
	}
	// The trash's clock starts now, not when the recording was uploaded.
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		h.path = path
		h.Restore()
		return nil, fmt.Errorf("hide recording %s: %w", id, err)
	}
	h.path = path
	return h, nil
}

// Restore undoes Hide.
func (h *Hidden) Restore() error {
	defer h.release()
	if h.path == "" {
		return nil
	}
	return os.Rename(h.path, filepath.Join(h.s.dir, h.id.String()))
}

// Discard leaves the hidden files in the trash for the sweep to remove
// once they are older than the trash retention. Until then a backup whose
// database dump was taken before the deletion still finds the files (in
// the trash), and a restore of it puts them back (see Sweep).
func (h *Hidden) Discard() { h.release() }

// Purge removes the hidden files for good.
func (h *Hidden) Purge() error {
	defer h.release()
	if h.path == "" {
		return nil
	}
	return os.RemoveAll(h.path)
}

func (h *Hidden) release() {
	if h.lock != nil {
		h.lock.Close()
		h.lock = nil
	}
}

// openOriginal opens the original in a recording directory for writing,
// which an exclusive lock needs on every filesystem.
func openOriginal(dir string) (*os.File, error) {
	names, err := filepath.Glob(filepath.Join(dir, "original.*"))
	if err != nil || len(names) == 0 {
		return nil, fs.ErrNotExist
	}
	return os.OpenFile(names[0], os.O_RDWR, 0)
}

// lockPatience is how long lock waits for a holder to let go: long enough
// for a sweep's probe (locked), which holds a lock for an instant, far
// shorter than a writer, which holds it for its whole request.
const lockPatience = 100 * time.Millisecond

// lock takes an exclusive lock on f, held until f is closed (or its
// process dies). It waits at most lockPatience: the files locked are each
// one writer's, and a second writer is refused, not queued; but a sweep
// probing the lock must not make a writer fail.
func lock(f *os.File) error {
	deadline := time.Now().Add(lockPatience)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// locked reports whether a live writer holds the lock of the file at path.
func locked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return errors.Is(syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB), syscall.EWOULDBLOCK)
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Package upload answers POST /api/upload: it streams a recording to disk
// while hashing it, decides its format from its content, reads its
// metadata, and archives it atomically.
package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"bandarchive/shared/app"
	"bandarchive/shared/audio"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
	"bandarchive/shared/limits"
	"bandarchive/shared/metadata"
	"bandarchive/shared/routes"
	"bandarchive/shared/storage"
)

// errNotAudio refuses a file that is no recording, whatever its name says.
var errNotAudio = errs.Errorf(errs.Unsupported,
	"This file is not a recording the archive can keep. Accepted: WAV/BWF, MP3, FLAC, OGG/Opus, M4A/AAC and AIFF.")

// maxFieldBytes bounds one text field of the form.
const maxFieldBytes = 64 << 10

// Deps are what the upload function uses.
type Deps struct {
	DB       *db.DB
	Sessions *auth.Sessions
	Store    *storage.Store
	// Wake, when set, tells the worker that a recording waits to be
	// processed (Lambda; self-hosted the database tells it).
	Wake func(context.Context)
	// MaxUploadBytes is the largest file accepted (MAX_UPLOAD_BYTES).
	MaxUploadBytes int64
	// MaxChunkBytes bounds one PATCH of a resumable upload.
	MaxChunkBytes int64
	// UploadExpiry is how long an unfinished upload waits for more bytes.
	UploadExpiry time.Duration
	// Bounds limit a member's unfinished uploads.
	Bounds db.UploadBounds
	Now    func() time.Time
}

type handler struct {
	Deps
}

// Build is the upload function's composition root: its Deps from the
// process's parts. Its own binary (main.go) and the processes that serve
// several functions (package functions) both build it here.
func Build(p *app.Parts) (http.Handler, error) {
	store, err := storage.Open(p.Config.Storage.UploadsDir)
	if err != nil {
		return nil, err
	}
	p.SweepUploads(store)
	return NewHandler(Deps{DB: p.DB, Sessions: p.Sessions, Store: store, Wake: p.Wake,
		MaxUploadBytes: p.Config.Storage.MaxUploadBytes, MaxChunkBytes: p.Config.Storage.MaxChunkBytes,
		UploadExpiry: limits.UploadExpiry, Bounds: app.UploadBounds(p.Config), Now: p.Now}), nil
}

// NewHandler returns the upload function's handler.
func NewHandler(d Deps) http.Handler {
	h := &handler{d}
	member := func(f httpx.HandlerFunc) http.Handler { return d.Sessions.RequireMember(f) }
	return routes.MustServe(routes.Upload, map[string]http.Handler{
		"POST /api/upload":         member(h.upload),
		"OPTIONS /api/uploads":     tus(member, h.options),
		"POST /api/uploads":        tus(member, h.create),
		"HEAD /api/uploads/{id}":   tus(member, h.head),
		"PATCH /api/uploads/{id}":  tus(member, h.patch),
		"DELETE /api/uploads/{id}": tus(member, h.terminate),
	})
}

func (h *handler) tooLarge() error { return limits.TooLarge(h.MaxUploadBytes) }

func (h *handler) upload(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength > h.MaxUploadBytes+limits.FormOverhead {
		return h.tooLarge() // refused before a byte is read
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return errs.Errorf(errs.Unsupported, "Upload the file as multipart/form-data with a part named \"file\".")
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.MaxUploadBytes+limits.FormOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "The upload is not a valid multipart form.")
	}

	var fields metadata.Fields
	var up *storage.Upload
	var filename string
	defer func() {
		if up != nil {
			up.Abort() // a no-op once kept
		}
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return h.readError(err)
		}
		switch name := part.FormName(); name {
		case "file":
			if up != nil {
				return errs.InvalidField("file", "Send one file per upload.")
			}
			filename = cleanFilename(part.FileName())
			if up, err = h.receive(part); err != nil {
				return err
			}
		case "title", "recorded_date", "venue", "source", "notes":
			v, err := readField(part, name)
			if err != nil {
				return h.readError(err)
			}
			if strings.TrimSpace(v) != "" { // an empty field leaves the file's own value
				setField(&fields, name, v)
			}
		default:
			if _, err := readField(part, name); err != nil {
				return h.readError(err)
			}
		}
	}
	if up == nil {
		return errs.InvalidField("file", "The form has no part named \"file\".")
	}
	u, _ := auth.UserFrom(r.Context())
	rec, err := h.archive(r.Context(), u.ID, up, filename, fields)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusCreated, rec)
}

// receive streams the file part into a temporary file. Its first bytes
// refuse what is not audio before anything is written (archive settles
// the format).
func (h *handler) receive(part io.Reader) (*storage.Upload, error) {
	head := make([]byte, audio.SniffLen)
	n, err := io.ReadFull(part, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, h.readError(err)
	}
	head = head[:n]
	if n == 0 {
		return nil, errs.InvalidField("file", "The file is empty.")
	}
	if _, ok := audio.Sniff(head); !ok {
		return nil, errNotAudio
	}
	up, err := h.Store.Create()
	if err != nil {
		return nil, err
	}
	up.Write(head)
	// Straight from the part, no reader in between: each extra copy of the
	// multipart reader's small pieces costs throughput. One byte past the
	// limit tells "too large" from "exactly the limit".
	copied, err := io.Copy(up, io.LimitReader(part, h.MaxUploadBytes+1-int64(n)))
	if err == nil && int64(n)+copied > h.MaxUploadBytes {
		err = h.tooLarge()
	}
	if err != nil {
		up.Abort()
		return nil, h.readError(err)
	}
	return up, nil
}

// readError turns a failure while receiving into the right answer. A
// coded error (the disk's, marked by storage) keeps its code; a body over
// the limit is 413; anything else is the request's fault: a client that
// went away (logged only, as 499) or a broken form.
func (h *handler) readError(err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errs.As(err) != nil:
		return err
	case errors.As(err, &tooBig):
		return h.tooLarge()
	}
	return errs.Wrap(errs.Invalid, err, "The upload was interrupted or is not a valid multipart form.")
}

// archive is the finishing step of both ways to upload, one request or
// resumable: it probes the received file and stores it, file in place
// first, then the row, and answers the recording as user sees it. A file
// the archive has already is the duplicate conflict of db.CheckNew. The
// caller aborts up on failure: the row could not be written, so the file
// goes again (or, resumable, waits to be finished again).
func (h *handler) archive(ctx context.Context, user uuid.UUID, up *storage.Upload, filename string, fields metadata.Fields) (db.Recording, error) {
	edit, err := fields.Edit(h.Now())
	if err != nil {
		return db.Recording{}, err
	}
	if err := up.Flush(); err != nil {
		return db.Recording{}, err
	}
	// The first 64 KiB refused what is surely not audio; behind an ID3v2
	// tag larger than that (cover art), only the file past the tag tells
	// FLAC or WAV from MP3.
	format, ok, err := audio.SniffAt(up, up.Size())
	if err != nil {
		return db.Recording{}, fmt.Errorf("read the upload: %w", err)
	}
	if !ok {
		return db.Recording{}, errNotAudio
	}
	sum := up.Sum()
	if err := h.DB.CheckNew(ctx, sum); err != nil {
		return db.Recording{}, err
	}
	info, err := audio.Probe(up, up.Size(), format)
	if err != nil {
		return db.Recording{}, errs.Wrap(errs.Unsupported, err, fmt.Sprintf(
			"The file looks like %s but its header cannot be read: it may be damaged or cut short.", strings.ToUpper(format.Name)))
	}
	rec := db.Recording{
		ID: uuid.New(), Title: titleFor(edit.Title, info.Title, filename), OriginalFilename: filename,
		Format: format.Name, MIMEType: format.MIME, DurationSeconds: info.Duration, FileSizeBytes: up.Size(),
		SHA256: sum, UploadedAt: h.Now(), UploadedBy: user, RecordedDate: info.RecordedDate,
	}
	if edit.RecordedDate != nil {
		rec.RecordedDate = *edit.RecordedDate
	}
	for _, f := range []struct{ dst, src *string }{{&rec.Venue, edit.Venue}, {&rec.Source, edit.Source}, {&rec.Notes, edit.Notes}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if err := up.Commit(rec.ID, format.Ext); err != nil {
		return db.Recording{}, err
	}
	// The request may be cancelled now; the row must still be written or
	// the file removed (the caller's Abort), so neither outlives the other.
	ctx = context.WithoutCancel(ctx)
	if err := h.DB.InsertRecording(ctx, rec); err != nil {
		if errs.CodeOf(err) == errs.Unavailable {
			// A timeout is no answer: the row may have been written after
			// all. The file stays; the sweep removes it if no row names it.
			up.Keep()
		}
		return db.Recording{}, err
	}
	if err := up.Keep(); err != nil {
		httpx.Logger(ctx).Warn("closing an archived upload failed", "id", rec.ID, "err", err.Error())
	}
	if h.Wake != nil {
		h.Wake(ctx)
	}
	httpx.Logger(ctx).Info("recording archived", "id", rec.ID, "format", format.Name, "bytes", rec.FileSizeBytes)
	return h.DB.Recording(ctx, rec.ID, user)
}

// titleFor prefers the form's title, then the file's own, then its name.
func titleFor(form *string, tagged, filename string) string {
	if form != nil {
		return *form
	}
	if t, err := metadata.Title(tagged); err == nil {
		return t
	}
	base := strings.TrimSuffix(filename, path.Ext(filename))
	if t, err := metadata.Title(base); err == nil {
		return t
	}
	return "Untitled recording"
}

// cleanFilename keeps the last path element of what the browser sent,
// without control characters, at most 255 bytes.
func cleanFilename(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if strings.Trim(name, ". ") == "" {
		return "recording"
	}
	return name
}

func readField(part io.Reader, name string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxFieldBytes {
		return "", errs.InvalidField(name, "A form field is longer than %d KB.", maxFieldBytes>>10)
	}
	return string(b), nil
}

func setField(f *metadata.Fields, name, v string) {
	switch name {
	case "title":
		f.Title = &v
	case "recorded_date":
		f.RecordedDate = &v
	case "venue":
		f.Venue = &v
	case "source":
		f.Source = &v
	case "notes":
		f.Notes = &v
	}
}

package upload

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"bandarchive/shared/audio"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
	"bandarchive/shared/metadata"
	"bandarchive/shared/storage"
)

// The tus protocol as served: version 1.0.0, core plus creation,
// termination and expiration (tus.io/protocols/resumable-upload).
const (
	tusVersion     = "1.0.0"
	tusExtensions  = "creation,termination,expiration"
	offsetStream   = "application/offset+octet-stream"
	uploadsPath    = "/api/uploads"
	metadataFields = "title,recorded_date,venue,source,notes"
)

// tus wraps a handler of the resumable-upload routes (behind the session
// check, which it wraps too, so a 401 says Tus-Resumable as well): every
// answer says Tus-Resumable, and every request but OPTIONS must speak its
// version.
func tus(member func(httpx.HandlerFunc) http.Handler, next httpx.HandlerFunc) http.Handler {
	inner := member(func(w http.ResponseWriter, r *http.Request) error {
		if r.Method != http.MethodOptions && r.Header.Get("Tus-Resumable") != tusVersion {
			w.Header().Set("Tus-Version", tusVersion)
			return errs.Errorf(errs.Precondition, "This server speaks tus %s; send Tus-Resumable: %s.", tusVersion, tusVersion)
		}
		return next(w, r)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Tus-Resumable", tusVersion)
		inner.ServeHTTP(w, r)
	})
}

// options tells a tus client what the server supports.
func (h *handler) options(w http.ResponseWriter, r *http.Request) error {
	hdr := w.Header()
	hdr.Set("Tus-Version", tusVersion)
	hdr.Set("Tus-Extension", tusExtensions)
	hdr.Set("Tus-Max-Size", strconv.FormatInt(h.MaxUploadBytes, 10))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// create starts a resumable upload: its length and its metadata (a file
// name, and the recording's fields) are checked now, not after 500 MB.
func (h *handler) create(w http.ResponseWriter, r *http.Request) error {
	if r.Header.Get("Upload-Defer-Length") != "" {
		return errs.Errorf(errs.Invalid, "Say the upload's length when creating it (Upload-Length); deferred lengths are not supported.")
	}
	length, err := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64)
	if err != nil || length < 0 {
		return errs.InvalidField("Upload-Length", "Upload-Length must be the file's size in bytes.")
	}
	if length == 0 {
		return errs.InvalidField("file", "The file is empty.")
	}
	if length > h.MaxUploadBytes {
		return h.tooLarge()
	}
	if r.ContentLength > 0 {
		return errs.Errorf(errs.Invalid, "Create the upload without a body, then send its bytes with PATCH.")
	}
	meta, err := parseMetadata(r.Header.Get("Upload-Metadata"))
	if err != nil {
		return err
	}
	if _, err := fieldsOf(meta).Edit(h.Now()); err != nil {
		return err
	}
	u, _ := auth.UserFrom(r.Context())
	now := h.Now()
	up := db.Upload{ID: uuid.New(), OwnerID: u.ID, Length: length, Metadata: meta, CreatedAt: now, ExpiresAt: now.Add(h.UploadExpiry)}
	if err := h.DB.CreateUpload(r.Context(), up, h.Bounds); err != nil {
		return err
	}
	httpx.Logger(r.Context()).Info("upload started", "upload", up.ID, "bytes", length)
	w.Header().Set("Location", uploadsPath+"/"+up.ID.String())
	w.Header().Set("Upload-Expires", up.ExpiresAt.UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusCreated)
	return nil
}

// parseMetadata reads Upload-Metadata: comma-separated "key base64value"
// pairs. filename is required; the recording's fields are kept, other
// keys (a client's own, like filetype) are ignored.
func parseMetadata(header string) (map[string]string, error) {
	meta := map[string]string{}
	bad := errs.InvalidField("Upload-Metadata", "Upload-Metadata must be comma-separated keys with base64 values.")
	for pair := range strings.SplitSeq(header, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, " ")
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if key == "" || err != nil {
			return nil, bad
		}
		if key == "filename" || strings.Contains(","+metadataFields+",", ","+key+",") {
			meta[key] = string(raw)
		}
	}
	if strings.TrimSpace(meta["filename"]) == "" {
		return nil, errs.InvalidField("filename", "Name the file in Upload-Metadata (filename).")
	}
	meta["filename"] = cleanFilename(meta["filename"])
	return meta, nil
}

// fieldsOf are the recording's fields an upload's metadata gives; an empty
// one leaves what the file itself says.
func fieldsOf(meta map[string]string) metadata.Fields {
	var f metadata.Fields
	for _, name := range strings.Split(metadataFields, ",") {
		if v, ok := meta[name]; ok && strings.TrimSpace(v) != "" {
			setField(&f, name, v)
		}
	}
	return f
}

// find loads the path's upload for the signed-in member; another
// member's, like an expired one, does not exist.
func (h *handler) find(r *http.Request) (db.Upload, error) {
	id, err := httpx.PathUUID(r, "id", db.ErrNoUpload)
	if err != nil {
		return db.Upload{}, err
	}
	u, _ := auth.UserFrom(r.Context())
	return h.DB.UploadOf(r.Context(), id, u.ID, h.Now())
}

// describe sets the headers that tell a client where an upload stands: a
// finished one names its recording (and whether it was already there).
func describe(hdr http.Header, up db.Upload) {
	hdr.Set("Upload-Offset", strconv.FormatInt(up.Offset, 10))
	hdr.Set("Upload-Expires", up.ExpiresAt.UTC().Format(http.TimeFormat))
	if up.RecordingID != nil {
		hdr.Set("Recording-Id", up.RecordingID.String())
		if up.Duplicate {
			hdr.Set("Recording-Duplicate", "true")
		}
	}
}

// head answers where an upload stands, so a client resumes from there (or
// learns, after losing the last answer, which recording it became).
func (h *handler) head(w http.ResponseWriter, r *http.Request) error {
	up, err := h.find(r)
	if err != nil {
		return err
	}
	describe(w.Header(), up)
	w.Header().Set("Upload-Length", strconv.FormatInt(up.Length, 10))
	w.WriteHeader(http.StatusOK)
	return nil
}

// patch appends a chunk at the upload's offset. What arrives is on disk
// before the new offset is acknowledged, also when the connection drops
// half-way; the first 64 KiB decide the format at once; the chunk that
// completes the upload makes it a recording.
func (h *handler) patch(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != offsetStream {
		return errs.Errorf(errs.Unsupported, "Send the bytes of an upload as %s.", offsetStream)
	}
	offset, err := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || offset < 0 {
		return errs.InvalidField("Upload-Offset", "Upload-Offset must be the byte the chunk starts at.")
	}
	if r.ContentLength > h.MaxChunkBytes {
		return errs.Errorf(errs.TooLarge, "One request may carry at most %d bytes of an upload; send smaller chunks.", h.MaxChunkBytes)
	}
	up, err := h.find(r)
	if err != nil {
		return err
	}
	if offset == up.Offset && r.ContentLength > up.Length-up.Offset {
		// Too large, like a body without a Content-Length that goes on past
		// the length (below); also at the end of a finished upload.
		return errs.Errorf(errs.TooLarge, "The chunk goes past the upload's length: %d bytes are left.", up.Length-up.Offset)
	}
	if up.FinishedAt != nil && offset == up.Length {
		describe(w.Header(), up) // it was finished: the client lost that answer
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err := atOffset(w, up, offset); err != nil {
		return err
	}
	p, err := h.Store.OpenPartial(up.ID)
	if err != nil {
		return err
	}
	defer func() {
		if p != nil {
			p.Close()
		}
	}()
	// Read again under the lock: a request that held it just now may have
	// moved the upload on, and truncating to a stale offset would lose its
	// bytes.
	if up, err = h.find(r); err != nil {
		return err
	}
	if err := atOffset(w, up, offset); err != nil {
		return err
	}
	remaining := up.Length - up.Offset
	sum, err := resumeHash(up)
	if err != nil {
		return err
	}
	// At most a chunk, and not past the length: a body that goes on is cut.
	limit := min(remaining, h.MaxChunkBytes)
	n, readErr := p.Append(up.Offset, io.LimitReader(r.Body, limit), sum)
	if errs.CodeOf(readErr) == errs.InsufficientStorage {
		return readErr // nothing of this chunk is acknowledged
	}
	if readErr == nil && n == limit {
		if extra, _ := r.Body.Read(make([]byte, 1)); extra > 0 {
			readErr = errs.Errorf(errs.TooLarge, "One request may carry at most %d bytes of an upload, and none past its length.", h.MaxChunkBytes)
		}
	}
	ctx := context.WithoutCancel(r.Context()) // what arrived is kept, whoever hung up
	to := up.Offset + n
	if up.Format == "" && (to >= audio.SniffLen || to == up.Length) && to > 0 {
		format, err := sniff(p, to)
		if err != nil {
			p.Remove()
			p = nil
			h.DB.DeleteUpload(ctx, up.ID)
			return err
		}
		up.Format = format
	}
	state, err := sum.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return fmt.Errorf("save hash state: %w", err)
	}
	expires := h.Now().Add(h.UploadExpiry)
	if err := h.DB.AdvanceUpload(ctx, up.ID, up.Offset, to, up.Format, state, expires); err != nil {
		return err
	}
	up.Offset, up.ExpiresAt = to, expires
	if readErr != nil {
		return readErr // acknowledged up to here: a HEAD tells the client
	}
	if up.Offset == up.Length {
		up, err = h.finish(ctx, up, p, sum.Sum(nil))
		p = nil // finish owns it now
		if err != nil {
			return err
		}
	}
	describe(w.Header(), up)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// atOffset refuses a chunk that does not start where the upload is (or
// comes after it finished), telling the client where that is.
func atOffset(w http.ResponseWriter, up db.Upload, offset int64) error {
	if offset == up.Offset && up.FinishedAt == nil {
		return nil
	}
	w.Header().Set("Upload-Offset", strconv.FormatInt(up.Offset, 10))
	return errs.Errorf(errs.Conflict, "The upload is at byte %d, not %d; continue from there.", up.Offset, offset)
}

// resumeHash is the SHA-256 of the upload's bytes so far, carried across
// chunks so the end needs no second read of 500 MB.
func resumeHash(up db.Upload) (hash.Hash, error) {
	h := sha256.New()
	if up.Offset == 0 {
		return h, nil
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(up.HashState); err != nil {
		return nil, fmt.Errorf("restore hash state of upload %s: %w", up.ID, err)
	}
	return h, nil
}

// sniff decides the format from the first bytes of the partial file.
func sniff(p *storage.Partial, size int64) (string, error) {
	head := make([]byte, min(size, audio.SniffLen))
	if _, err := p.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the head of an upload: %w", err)
	}
	format, ok := audio.Sniff(head)
	if !ok {
		return "", errNotAudio
	}
	return format.Name, nil
}

// finish makes a complete upload a recording, through the same step as a
// one-request upload. A file the archive already has makes no second
// recording: the upload names the existing one. A failure that is not the
// file's keeps its bytes, and the next PATCH or HEAD and PATCH finish it.
func (h *handler) finish(ctx context.Context, up db.Upload, p *storage.Partial, sum []byte) (db.Upload, error) {
	file := p.Upload(h.Store, sum, up.Length)
	defer file.Abort()
	rec, err := h.archive(ctx, up.OwnerID, file, up.Metadata["filename"], fieldsOf(up.Metadata))
	duplicate := false
	if id, ok := db.DuplicateOf(err); ok {
		rec.ID, duplicate, err = id, true, nil
		file.Keep()
		h.Store.RemovePartial(up.ID)
	}
	switch errs.CodeOf(err) {
	case "":
	case errs.Unsupported, errs.Invalid:
		// The file itself is wrong: its bytes are of no use to anyone.
		file.Keep()
		h.Store.RemovePartial(up.ID)
		h.DB.DeleteUpload(ctx, up.ID)
		return up, err
	default:
		return up, err
	}
	now := h.Now()
	if err := h.DB.FinishUpload(ctx, up.ID, rec.ID, duplicate, now, now.Add(h.UploadExpiry)); err != nil {
		return up, err
	}
	up.FinishedAt, up.RecordingID, up.Duplicate, up.ExpiresAt = &now, &rec.ID, duplicate, now.Add(h.UploadExpiry)
	return up, nil
}

// terminate cancels an upload and frees its bytes at once; a finished
// upload is only forgotten (its recording stays).
func (h *handler) terminate(w http.ResponseWriter, r *http.Request) error {
	up, err := h.find(r)
	if err != nil {
		return err
	}
	if up.FinishedAt == nil {
		if err := h.Store.RemovePartial(up.ID); err != nil {
			return err
		}
	}
	if err := h.DB.DeleteUpload(r.Context(), up.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

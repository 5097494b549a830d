// Package recordings lists, shows, edits and deletes recordings, and plays
// them back: byte ranges for seeking, or X-Accel-Redirect so Nginx sends
// the bytes.
package recordings

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"

	"bandarchive/shared/app"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
	"bandarchive/shared/listing"
	"bandarchive/shared/metadata"
	"bandarchive/shared/routes"
	"bandarchive/shared/storage"
)

// Deps are what the recordings function uses.
type Deps struct {
	DB       *db.DB
	Sessions *auth.Sessions
	Store    *storage.Store
	// AccelRedirectPrefix, when set, is Nginx's internal location of the
	// uploads: playback answers X-Accel-Redirect and Nginx sends the bytes.
	AccelRedirectPrefix string
	// MaxResponseBytes, when set, bounds the bytes of one audio answer
	// (Lambda's payload limit): a longer or open range is cut to it.
	MaxResponseBytes int64
	// Wake, when set, tells the worker that a job waits (Lambda).
	Wake func(context.Context)
	Now  func() time.Time
}

type handler struct {
	Deps
}

// Build is the recordings function's composition root: its Deps from the
// process's parts. Its own binary (main.go) and the processes that serve
// several functions (package functions) both build it here.
func Build(p *app.Parts) (http.Handler, error) {
	store, err := storage.Open(p.Config.Storage.UploadsDir)
	if err != nil {
		return nil, err
	}
	return NewHandler(Deps{DB: p.DB, Sessions: p.Sessions, Store: store,
		AccelRedirectPrefix: p.Config.Storage.AccelRedirectPrefix, MaxResponseBytes: app.MaxResponseBytes(p.Config), Wake: p.Wake, Now: p.Now}), nil
}

// NewHandler returns the recordings function's handler.
func NewHandler(d Deps) http.Handler {
	h := &handler{d}
	member := func(f httpx.HandlerFunc) http.Handler { return d.Sessions.RequireMember(f) }
	return routes.MustServe(routes.Recordings, map[string]http.Handler{
		"GET /api/recordings":               member(h.list),
		"GET /api/recordings/{id}":          member(h.detail),
		"PATCH /api/recordings/{id}":        member(h.edit),
		"DELETE /api/recordings/{id}":       member(h.delete),
		"GET /api/recordings/{id}/audio":    member(h.audio),
		"GET /api/recordings/{id}/listen":   member(h.listen),
		"POST /api/recordings/{id}/process": d.Sessions.RequireAdmin(httpx.HandlerFunc(h.process)),
	})
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	return listing.Serve(w, r, h.DB, "")
}

// pathID is the recording id of the path.
func pathID(r *http.Request) (uuid.UUID, error) { return httpx.PathUUID(r, "id", db.ErrNoRecording) }

// find loads the recording named by the path for the signed-in member.
func (h *handler) find(r *http.Request) (db.Recording, error) {
	id, err := pathID(r)
	if err != nil {
		return db.Recording{}, err
	}
	u, _ := auth.UserFrom(r.Context())
	return h.DB.Recording(r.Context(), id, u.ID)
}

func (h *handler) detail(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.find(r)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, rec)
}

// edit changes the fields given; a JSON null clears the recorded date.
func (h *handler) edit(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.find(r)
	if err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := httpx.DecodeJSON(w, r, &raw); err != nil {
		return err
	}
	var f metadata.Fields
	for name, v := range raw {
		var s *string
		if string(v) != "null" {
			s = new(string)
			if err := json.Unmarshal(v, s); err != nil {
				return errs.InvalidField(name, "The field %q must be a string.", name)
			}
		}
		switch name {
		case "title":
			if s == nil {
				return errs.InvalidField("title", "A recording always has a title.")
			}
			f.Title = s
		case "recorded_date":
			if s == nil {
				s = new(string) // null clears
			}
			f.RecordedDate = s
		case "venue":
			f.Venue = s
		case "source":
			f.Source = s
		case "notes":
			f.Notes = s
		default:
			return errs.InvalidField(name, "The field %q cannot be edited.", name)
		}
	}
	e, err := f.Edit(h.Now())
	if err != nil {
		return err
	}
	if err := h.DB.UpdateRecording(r.Context(), rec.ID, e); err != nil {
		return err
	}
	rec, err = h.find(r)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, rec)
}

// delete removes the row, its scores and its files; only the uploader or
// an admin may. The files are moved aside while the deleted row is still
// locked, and put back if the deletion does not commit, so neither
// outlives the other; a second deletion at the same time waits for the
// first and then finds nothing (404) and touches no file.
func (h *handler) delete(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.find(r)
	if err != nil {
		return err
	}
	u, _ := auth.UserFrom(r.Context())
	if rec.UploadedBy != u.ID && !u.IsAdmin() {
		return errs.Errorf(errs.Forbidden, "Only the member who uploaded this recording, or an admin, can delete it.")
	}
	log := httpx.Logger(r.Context())
	var hidden *storage.Hidden
	err = h.DB.DeleteRecording(r.Context(), rec.ID, func() (err error) {
		hidden, err = h.Store.Hide(rec.ID)
		return err
	})
	if err != nil {
		if hidden != nil {
			if rerr := hidden.Restore(); rerr != nil {
				log.Error("could not restore the files of a failed deletion", "id", rec.ID, "err", rerr.Error())
			}
		}
		return err
	}
	// The files stay in the trash until the sweep removes them, after the
	// trash retention: a backup made meanwhile stays whole.
	hidden.Discard()
	log.Info("recording deleted", "id", rec.ID, "by", u.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Package recordings lists, shows, edits and deletes recordings, and plays
// them back: byte ranges for seeking, or X-Accel-Redirect so Nginx sends
// the bytes.
package recordings

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"bandarchive/shared/app"
	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/httpx"
	"bandarchive/shared/listing"
	"bandarchive/shared/metadata"
	"bandarchive/shared/routes"
	"bandarchive/shared/storage"
)

type handler struct {
	env   *app.Env
	store *storage.Store
}

// New returns the recordings function's handler.
func New(env *app.Env) (http.Handler, error) {
	store, err := storage.Open(env.Config.Storage.UploadsDir)
	if err != nil {
		return nil, err
	}
	h := &handler{env: env, store: store}
	member := func(f httpx.HandlerFunc) http.Handler { return env.Sessions.RequireMember(f) }
	return app.Routes(routes.Recordings, map[string]http.Handler{
		"GET /api/recordings":            member(h.list),
		"GET /api/recordings/{id}":       member(h.detail),
		"PATCH /api/recordings/{id}":     member(h.edit),
		"DELETE /api/recordings/{id}":    member(h.delete),
		"GET /api/recordings/{id}/audio": member(h.audio),
	})
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	return listing.Serve(w, r, h.env.DB, "")
}

var errNoRecording = httpx.Errorf(httpx.NotFound, "There is no such recording.")

// pathID is the recording id of the path.
func pathID(r *http.Request) (uuid.UUID, error) { return httpx.PathUUID(r, "id", errNoRecording) }

// find loads the recording named by the path for the signed-in member.
func (h *handler) find(r *http.Request) (db.Recording, error) {
	id, err := pathID(r)
	if err != nil {
		return db.Recording{}, err
	}
	u, _ := auth.UserFrom(r.Context())
	rec, err := h.env.DB.Recording(r.Context(), id, u.ID)
	if errors.Is(err, db.ErrNotFound) {
		return db.Recording{}, errNoRecording
	}
	return rec, err
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
	if err := httpx.DecodeInput(w, r, &raw); err != nil {
		return err
	}
	var f metadata.Fields
	for name, v := range raw {
		var s *string
		if string(v) != "null" {
			s = new(string)
			if err := json.Unmarshal(v, s); err != nil {
				return httpx.Errorf(httpx.Invalid, "The field %q must be a string.", name)
			}
		}
		switch name {
		case "title":
			if s == nil {
				return httpx.Errorf(httpx.Invalid, "A recording always has a title.")
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
			return httpx.Errorf(httpx.Invalid, "The field %q cannot be edited.", name)
		}
	}
	e, err := f.Edit(h.env.Now())
	if err != nil {
		return err
	}
	if err := h.env.DB.UpdateRecording(r.Context(), rec.ID, e); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return errNoRecording
		}
		return err
	}
	rec, err = h.find(r)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, rec)
}

// delete removes the row, its scores and its file; only the uploader or
// an admin may. The file is moved aside first and put back if the row
// cannot be deleted, so neither outlives the other.
func (h *handler) delete(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.find(r)
	if err != nil {
		return err
	}
	u, _ := auth.UserFrom(r.Context())
	if rec.UploadedBy != u.ID && !u.IsAdmin() {
		return httpx.Errorf(httpx.Forbidden, "Only the member who uploaded this recording, or an admin, can delete it.")
	}
	if err := h.store.Hide(rec.ID); err != nil {
		return err
	}
	if err := h.env.DB.DeleteRecording(r.Context(), rec.ID); err != nil {
		if rerr := h.store.Restore(rec.ID); rerr != nil {
			httpx.Logger(r.Context()).Error("could not restore the file of a failed deletion", "id", rec.ID, "err", rerr.Error())
		}
		if errors.Is(err, db.ErrNotFound) {
			return errNoRecording
		}
		return err
	}
	if err := h.store.Purge(rec.ID); err != nil {
		// The row is gone; the start-up sweep removes the rest.
		httpx.Logger(r.Context()).Error("could not remove the file of a deleted recording", "id", rec.ID, "err", err.Error())
	}
	httpx.Logger(r.Context()).Info("recording deleted", "id", rec.ID, "by", u.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

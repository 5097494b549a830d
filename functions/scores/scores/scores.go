// Package scores lets members score recordings 1–5 and answers the
// ranking: recordings by average score, unscored last.
package scores

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
	"bandarchive/shared/routes"
)

type handler struct {
	env *app.Env
}

// New returns the scores function's handler.
func New(env *app.Env) (http.Handler, error) {
	h := &handler{env: env}
	member := func(f httpx.HandlerFunc) http.Handler { return env.Sessions.RequireMember(f) }
	return app.Routes(routes.Scores, map[string]http.Handler{
		"GET /api/scores":                   member(h.ranking),
		"PUT /api/scores/{recording_id}":    member(h.set),
		"DELETE /api/scores/{recording_id}": member(h.remove),
	})
}

func (h *handler) ranking(w http.ResponseWriter, r *http.Request) error {
	return listing.Serve(w, r, h.env.DB, db.SortScore)
}

var errNoRecording = httpx.Errorf(httpx.NotFound, "There is no such recording.")

func recordingID(r *http.Request) (uuid.UUID, error) {
	return httpx.PathUUID(r, "recording_id", errNoRecording)
}

// set stores my score and answers the recording with its new summary.
func (h *handler) set(w http.ResponseWriter, r *http.Request) error {
	id, err := recordingID(r)
	if err != nil {
		return err
	}
	var in struct {
		Score json.Number `json:"score"`
	}
	if err := httpx.DecodeInput(w, r, &in); err != nil {
		return err
	}
	score, err := in.Score.Int64()
	if err != nil || score < 1 || score > 5 {
		return httpx.Errorf(httpx.Invalid, "A score is a whole number from 1 to 5.")
	}
	u, _ := auth.UserFrom(r.Context())
	if err := h.env.DB.SetScore(r.Context(), id, u.ID, int(score), h.env.Now()); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return errNoRecording
		}
		return err
	}
	return h.answer(w, r, id, u.ID)
}

func (h *handler) remove(w http.ResponseWriter, r *http.Request) error {
	id, err := recordingID(r)
	if err != nil {
		return err
	}
	u, _ := auth.UserFrom(r.Context())
	if err := h.env.DB.DeleteScore(r.Context(), id, u.ID); err != nil {
		return err
	}
	return h.answer(w, r, id, u.ID)
}

func (h *handler) answer(w http.ResponseWriter, r *http.Request, id, viewer uuid.UUID) error {
	rec, err := h.env.DB.Recording(r.Context(), id, viewer)
	if errors.Is(err, db.ErrNotFound) {
		return errNoRecording
	}
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, rec)
}

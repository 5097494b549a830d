// Package scores lets members score recordings 1–5 and answers the
// ranking: recordings by average score, unscored last.
package scores

import (
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
	"bandarchive/shared/routes"
)

// Deps are what the scores function uses.
type Deps struct {
	DB       *db.DB
	Sessions *auth.Sessions
	Now      func() time.Time
}

type handler struct {
	Deps
}

// Build is the scores function's composition root: its Deps from the
// process's parts. Its own binary (main.go) and the processes that serve
// several functions (package functions) both build it here.
func Build(p *app.Parts) (http.Handler, error) {
	return NewHandler(Deps{DB: p.DB, Sessions: p.Sessions, Now: p.Now}), nil
}

// NewHandler returns the scores function's handler.
func NewHandler(d Deps) http.Handler {
	h := &handler{d}
	member := func(f httpx.HandlerFunc) http.Handler { return d.Sessions.RequireMember(f) }
	return routes.MustServe(routes.Scores, map[string]http.Handler{
		"GET /api/scores":                   member(h.ranking),
		"PUT /api/scores/{recording_id}":    member(h.set),
		"DELETE /api/scores/{recording_id}": member(h.remove),
	})
}

func (h *handler) ranking(w http.ResponseWriter, r *http.Request) error {
	return listing.Serve(w, r, h.DB, db.SortScore)
}

func recordingID(r *http.Request) (uuid.UUID, error) {
	return httpx.PathUUID(r, "recording_id", db.ErrNoRecording)
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
		return errs.InvalidField("score", "A score is a whole number from 1 to 5.")
	}
	u, _ := auth.UserFrom(r.Context())
	if err := h.DB.SetScore(r.Context(), id, u.ID, int(score), h.Now()); err != nil {
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
	if err := h.DB.DeleteScore(r.Context(), id, u.ID); err != nil {
		return err
	}
	return h.answer(w, r, id, u.ID)
}

func (h *handler) answer(w http.ResponseWriter, r *http.Request, id, viewer uuid.UUID) error {
	rec, err := h.DB.Recording(r.Context(), id, viewer)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, rec)
}

package httpx

import (
	"context"
	"net/http"
	"time"

	"bandarchive/shared/errs"
)

// Health answers 200 when ping succeeds within two seconds, else 503: the
// /healthz of every function, for the platform's health checks.
func Health(ping func(context.Context) error) http.Handler {
	return HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ping(ctx); err != nil {
			return &errs.Error{Code: errs.Unavailable, Err: err, RetryAfter: 15 * time.Second,
				Message: "The database is not reachable."}
		}
		return WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

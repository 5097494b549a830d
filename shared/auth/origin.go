package auth

import (
	"net/http"
	"net/url"

	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
)

// CheckOrigin refuses state-changing requests that do not come from origin
// (the scheme and host of BASE_URL): CSRF protection that needs no token.
//
// The Origin header must match; when a browser sends none, or "null" (as it
// does for same-origin POSTs under Referrer-Policy: no-referrer), a Referer
// of origin or the browser's own Sec-Fetch-Site: same-origin is accepted.
// Pages cannot forge either. Anything else is 403.
func CheckOrigin(origin string, next http.Handler) http.Handler {
	return httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if !SameOrigin(r, origin) {
			return errs.Errorf(errs.Forbidden, "This request did not come from %s and was refused.", origin)
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// SameOrigin reports whether r is safe (GET, HEAD, OPTIONS) or comes from
// origin.
func SameOrigin(r *http.Request, origin string) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		return o == origin
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		return err == nil && u.Scheme+"://"+u.Host == origin
	}
	return r.Header.Get("Sec-Fetch-Site") == "same-origin"
}

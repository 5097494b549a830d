package app_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

// named answers with the name of the function it stands in for.
func named(function string) app.Builder {
	return func(*app.Parts) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, function) }), nil
	}
}

func TestMountRoutesOnlyTheFunctionsGiven(t *testing.T) {
	mux, err := app.Mount(&app.Parts{}, map[string]app.Builder{routes.SendLink: named(routes.SendLink), routes.Scores: named(routes.Scores)},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fallback") }))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path  string
		want                int
		wantBody, wantAllow string
	}{
		{"a mounted row", "POST", "/auth/send-link", http.StatusOK, routes.SendLink, ""},
		{"another function's row", "PUT", "/api/scores/x", http.StatusOK, routes.Scores, ""},
		{"a mounted path, other method", "GET", "/auth/send-link", http.StatusMethodNotAllowed, "", "POST"},
		{"a GET row answers HEAD", "HEAD", "/api/scores", http.StatusOK, "", ""},
		{"a row of a function not mounted", "GET", "/api/me", http.StatusOK, "fallback", ""},
		{"a path in no row", "GET", "/nothing", http.StatusOK, "fallback", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.want {
				t.Fatalf("%s %s: status %d, want %d", tt.method, tt.path, w.Code, tt.want)
			}
			if tt.wantBody != "" && w.Body.String() != tt.wantBody {
				t.Errorf("%s %s answered by %q, want %q", tt.method, tt.path, w.Body, tt.wantBody)
			}
			if got := w.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestMountWithoutFallbackAnswersJSON404(t *testing.T) {
	mux, err := app.Mount(&app.Parts{}, map[string]app.Builder{routes.SendLink: named(routes.SendLink)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/api/me", nil))
	if w.Code != http.StatusNotFound || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/me with only send-link mounted: %d %q, want a JSON 404", w.Code, w.Header().Get("Content-Type"))
	}
}

func TestMountRefusesWhatItCannotMount(t *testing.T) {
	broken := errors.New("no database")
	tests := []struct {
		name     string
		builders map[string]app.Builder
		wantIs   error
	}{
		{"a function not in the route table", map[string]app.Builder{"nope": named("nope")}, nil},
		{"a builder that fails", map[string]app.Builder{routes.Verify: func(*app.Parts) (http.Handler, error) { return nil, broken }}, broken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := app.Mount(&app.Parts{}, tt.builders, nil)
			if err == nil || tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want an error (%v)", err, tt.wantIs)
			}
		})
	}
}

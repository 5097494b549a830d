package pages_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"bandarchive/shared/pages"
	"bandarchive/shared/routes"
	"bandarchive/web"
)

// webDir is web/ on disk, from this package's directory.
const webDir = "../../web"

// files lists the regular files of fsys, with the Go files left out.
func files(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	var names []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasSuffix(name, ".go") {
			names = append(names, name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// TestEmbeddedCopyIsTheDirectory: the copy of web/ compiled into the pages
// function holds every file of the directory but its Go files, so a new
// page or asset cannot go missing on AWS only.
func TestEmbeddedCopyIsTheDirectory(t *testing.T) {
	onDisk, embedded := files(t, os.DirFS(webDir)), files(t, web.FS())
	if !slices.Equal(embedded, onDisk) {
		t.Errorf("web.FS() holds %v, web/ holds %v: widen the //go:embed patterns in web/web.go", embedded, onDisk)
	}
	for _, p := range append(routes.Pages(), routes.Page{Path: "(not found)", File: routes.NotFoundPage}) {
		if !slices.Contains(embedded, p.File) {
			t.Errorf("page %s: %s is not embedded", p.Path, p.File)
		}
	}
}

// sample fills a page path's wildcards.
func sample(path string) string {
	path = strings.TrimSuffix(path, "{$}")
	return strings.NewReplacer("{token}", "abc", "{id}", "abc").Replace(path)
}

func do(h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestHandler serves the embedded copy and web/ on disk alike: every page
// of the table and every static file with the bytes of its file,
// revalidated by ETag; nothing else.
func TestHandler(t *testing.T) {
	for name, fsys := range map[string]fs.FS{"embedded": web.FS(), "directory": os.DirFS(webDir)} {
		t.Run(name, func(t *testing.T) {
			h := pages.Handler(fsys)
			check := func(path, file, contentType string) {
				t.Helper()
				want, err := os.ReadFile(filepath.Join(webDir, filepath.FromSlash(file)))
				if err != nil {
					t.Fatal(err)
				}
				got := do(h, "GET", path)
				if got.Code != 200 || got.Body.String() != string(want) {
					t.Errorf("GET %s: %d, %d bytes; want 200 and %s (%d bytes)", path, got.Code, got.Body.Len(), file, len(want))
				}
				if ct := got.Header().Get("Content-Type"); !strings.HasPrefix(ct, contentType) {
					t.Errorf("GET %s: Content-Type %q, want %s", path, ct, contentType)
				}
				etag := got.Header().Get("ETag")
				if cc := got.Header().Get("Cache-Control"); cc != "no-cache" || etag == "" {
					t.Errorf("GET %s: Cache-Control %q, ETag %q; want no-cache and an ETag", path, cc, etag)
				}
				if again := do(h, "GET", path, "If-None-Match", etag); again.Code != http.StatusNotModified || again.Body.Len() != 0 {
					t.Errorf("GET %s with its ETag: %d, %d bytes; want 304 without a body", path, again.Code, again.Body.Len())
				}
				if head := do(h, "HEAD", path); head.Code != 200 || head.Body.Len() != 0 {
					t.Errorf("HEAD %s: %d, %d bytes; want 200 without a body", path, head.Code, head.Body.Len())
				}
			}
			for _, p := range routes.Pages() {
				check(sample(p.Path), p.File, "text/html; charset=utf-8")
			}
			check("/assets/app.css", "assets/app.css", "text/css")
			check("/assets/api.js", "assets/api.js", "text/javascript")
			check("/favicon.svg", "favicon.svg", "image/svg+xml")

			// Scripts ask for these: the API's JSON 404.
			for _, c := range []struct{ method, path string }{
				{"GET", "/assets/"}, {"GET", "/assets/nothing.js"}, {"POST", "/assets/app.css"}, {"POST", "/favicon.svg"},
				{"GET", "/api/nothing"}, {"POST", "/api/nothing"}, {"GET", "/auth/whatever"}, {"GET", "/api/"},
				{"POST", "/healthz"},
			} {
				got := do(h, c.method, c.path)
				if got.Code != 404 || !strings.Contains(got.Body.String(), `"not_found"`) {
					t.Errorf("%s %s: %d %q, want a JSON 404", c.method, c.path, got.Code, got.Body.String())
				}
			}
			// A person follows these: the page that says so, with a way home.
			notFound, err := os.ReadFile(filepath.Join(webDir, routes.NotFoundPage))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ method, path string }{
				{"GET", "/recordingz"}, {"GET", "/foo/bar"}, {"GET", "/index.html"}, {"GET", "/admin/invites.html"},
				{"GET", "/admin/"}, {"GET", "/recordings/abc/extra"}, {"GET", "/nothing"}, {"GET", "/web.go"},
				{"GET", "/maxlength_test.go"}, {"GET", "/" + routes.NotFoundPage}, {"GET", "/apix"}, {"GET", "/favicon.svg/x"}, {"POST", "/login"},
			} {
				got := do(h, c.method, c.path)
				if got.Code != 404 || got.Body.String() != string(notFound) || got.Header().Get("Content-Type") != "text/html; charset=utf-8" {
					t.Errorf("%s %s: %d, Content-Type %q, %q; want 404 and web/%s", c.method, c.path, got.Code, got.Header().Get("Content-Type"), got.Body.String(), routes.NotFoundPage)
				}
			}
			if head := do(h, "HEAD", "/nothing"); head.Code != 404 || head.Body.Len() != 0 {
				t.Errorf("HEAD /nothing: %d, %d bytes; want 404 without a body", head.Code, head.Body.Len())
			}
		})
	}
}

// TestNotFoundPageLeadsHome: the not-found page is a page like the
// others (their stylesheet, no script) with a link to the archive.
func TestNotFoundPageLeadsHome(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(webDir, routes.NotFoundPage))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{"<title>Page not found", `href="/assets/app.css"`, "<h1>Page not found</h1>", `href="/"`} {
		if !strings.Contains(page, want) {
			t.Errorf("web/%s lacks %s", routes.NotFoundPage, want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Errorf("web/%s has a script; it needs none", routes.NotFoundPage)
	}
}

// TestHandlerWithoutFiles: with no web/ (the dev server started elsewhere
// than the repository root) every path is a JSON 404, pages included.
func TestHandlerWithoutFiles(t *testing.T) {
	for name, fsys := range map[string]fs.FS{"missing directory": os.DirFS(filepath.Join(t.TempDir(), "web")), "empty": fstest.MapFS{}} {
		h := pages.Handler(fsys)
		for _, path := range []string{"/", "/login", "/assets/app.css", "/favicon.svg", "/nothing"} {
			got := do(h, "GET", path)
			if got.Code != 404 || !strings.Contains(got.Body.String(), `"not_found"`) {
				t.Errorf("%s: GET %s: %d %q, want a JSON 404", name, path, got.Code, got.Body.String())
			}
		}
	}
}

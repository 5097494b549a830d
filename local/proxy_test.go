package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"
	"time"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/db"
	"bandarchive/shared/routes"
)

// slowEdge is a reverse proxy like Traefik in front of the band's server:
// it reads each request for at most readTimeout (http.Server.ReadTimeout,
// as Traefik's entry points do) and takes bodies at most rate bytes a
// second, as a member's home line delivers them.
func slowEdge(t *testing.T, target string, readTimeout time.Duration, rate int) string {
	t.Helper()
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = apptest.Paced(r.Body, int64(rate))
		proxy.ServeHTTP(w, r)
	}))
	srv.Config.ReadTimeout = readTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestTheEdgeThatBites: behind a proxy that reads each request for 3 s at
// most, at 2 MiB/s, a 12 MB recording cannot arrive in one request; the
// same file in tus chunks of 1 MiB can.
func TestTheEdgeThatBites(t *testing.T) {
	h := apptest.New(t, apptest.HTTP, functions.Mount(nil, routes.Upload), apptest.Options{})
	b, _ := h.Member("ann@band.example", db.RoleMember)
	edge := slowEdge(t, h.URL(), 3*time.Second, 2<<20)
	content := apptest.WAV(6_000_000, 44100) // 12 MB: 6 s at 2 MiB/s
	send := func(method, path string, header map[string]string, body []byte) (*http.Response, error) {
		req, _ := http.NewRequest(method, edge+path, bytes.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		req.Header.Set("Origin", apptest.BaseURL)
		req.Header.Set("Cookie", "bandarchive_session="+b.Session())
		resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}

	form, ct := apptest.Multipart(t, map[string]string{"title": "whole"}, "whole.wav", content)
	if resp, err := send("POST", "/api/upload", map[string]string{"Content-Type": ct}, form); err == nil && resp.StatusCode == http.StatusCreated {
		t.Fatal("a 12 MB upload in one request got through the proxy: it does not bite, and the test proves nothing")
	}

	created, err := send("POST", "/api/uploads", map[string]string{"Tus-Resumable": "1.0.0",
		"Upload-Length": strconv.Itoa(len(content)), "Upload-Metadata": apptest.TusMetadata(map[string]string{"filename": "chunked.wav"})}, nil)
	if err != nil || created.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v %v", created, err)
	}
	path := created.Header.Get("Location")
	var last *http.Response
	for off := 0; off < len(content); off += 1 << 20 {
		last, err = send("PATCH", path, map[string]string{"Tus-Resumable": "1.0.0", "Upload-Offset": strconv.Itoa(off),
			"Content-Type": "application/offset+octet-stream"}, content[off:min(off+1<<20, len(content))])
		if err != nil || last.StatusCode != http.StatusNoContent {
			t.Fatalf("chunk at %d through the proxy: %v %v", off, last, err)
		}
	}
	if last.Header.Get("Recording-Id") == "" {
		t.Fatalf("the last chunk named no recording: %v", last.Header)
	}
}

package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"bandarchive/shared/auth"
)

const origin = "https://archive.test"

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		name   string
		method string
		header map[string]string
		want   bool
	}{
		{name: "GET without any header", method: http.MethodGet, want: true},
		{name: "GET from another site", method: http.MethodGet, header: map[string]string{"Origin": "https://evil.example"}, want: true},
		{name: "HEAD", method: http.MethodHead, want: true},
		{name: "OPTIONS", method: http.MethodOptions, want: true},
		{name: "POST with our Origin", method: http.MethodPost, header: map[string]string{"Origin": origin}, want: true},
		{name: "DELETE with our Origin", method: http.MethodDelete, header: map[string]string{"Origin": origin}, want: true},
		{name: "POST from another origin", method: http.MethodPost, header: map[string]string{"Origin": "https://evil.example"}, want: false},
		{name: "POST from a longer host with our origin as prefix", method: http.MethodPost, header: map[string]string{"Origin": "https://archive.test.evil.example"}, want: false},
		{name: "POST over plain http", method: http.MethodPost, header: map[string]string{"Origin": "http://archive.test"}, want: false},
		{name: "POST from another port", method: http.MethodPost, header: map[string]string{"Origin": "https://archive.test:8443"}, want: false},
		{name: "POST with a bad Origin and a good Referer", method: http.MethodPost, header: map[string]string{"Origin": "https://evil.example", "Referer": origin + "/upload"}, want: false},
		{name: "POST with a bad Origin and same-origin fetch", method: http.MethodPost, header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"}, want: false},
		{name: "Origin null, Sec-Fetch-Site same-origin", method: http.MethodPost, header: map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"}, want: true},
		{name: "Origin null, Sec-Fetch-Site cross-site", method: http.MethodPost, header: map[string]string{"Origin": "null", "Sec-Fetch-Site": "cross-site"}, want: false},
		{name: "Origin null, Sec-Fetch-Site same-site", method: http.MethodPost, header: map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-site"}, want: false},
		{name: "Origin null alone", method: http.MethodPost, header: map[string]string{"Origin": "null"}, want: false},
		{name: "Referer of ours", method: http.MethodPost, header: map[string]string{"Referer": origin + "/join/abc?x=1"}, want: true},
		{name: "Referer of another site", method: http.MethodPost, header: map[string]string{"Referer": "https://evil.example/archive.test"}, want: false},
		{name: "Referer with our origin as prefix", method: http.MethodPost, header: map[string]string{"Referer": "https://archive.test.evil.example/"}, want: false},
		{name: "Referer with our origin as user info", method: http.MethodPost, header: map[string]string{"Referer": "https://archive.test@evil.example/"}, want: false},
		{name: "Referer that does not parse", method: http.MethodPost, header: map[string]string{"Referer": "https://archive.test/%zz"}, want: false},
		{name: "Referer of another site wins over Sec-Fetch-Site", method: http.MethodPost, header: map[string]string{"Referer": "https://evil.example/", "Sec-Fetch-Site": "same-origin"}, want: false},
		{name: "Origin null, Referer of ours", method: http.MethodPost, header: map[string]string{"Origin": "null", "Referer": origin + "/"}, want: true},
		{name: "nothing at all", method: http.MethodPost, want: false},
		{name: "PUT with nothing", method: http.MethodPut, want: false},
		{name: "PATCH with nothing", method: http.MethodPatch, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, origin+"/api/invites", nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if got := auth.SameOrigin(r, origin); got != tt.want {
				t.Errorf("SameOrigin: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckOrigin(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		origin     string
		want       int
		wantCalled bool
	}{
		{"write from our origin", http.MethodPost, origin, http.StatusNoContent, true},
		{"write from elsewhere", http.MethodPost, "https://evil.example", http.StatusForbidden, false},
		{"read from elsewhere", http.MethodGet, "https://evil.example", http.StatusNoContent, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			h := auth.CheckOrigin(origin, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				w.WriteHeader(http.StatusNoContent)
			}))
			r := httptest.NewRequest(tt.method, origin+"/auth/logout", nil)
			r.Header.Set("Origin", tt.origin)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want || called != tt.wantCalled {
				t.Errorf("got status %d, handler called %v, want %d, %v", w.Code, called, tt.want, tt.wantCalled)
			}
			if tt.want == http.StatusForbidden && errorCode(t, w.Body.Bytes()) != "forbidden" {
				t.Errorf("body: got %s, want a forbidden JSON error", w.Body)
			}
		})
	}
}

package routes_test

import (
	"net/http/httptest"
	"testing"

	"bandarchive/shared/routes"
)

func TestLargeBodyIsTheUploadRoutesOnly(t *testing.T) {
	tests := []struct {
		method, path string
		want         bool
	}{
		{"POST", "/api/upload", true},
		{"GET", "/api/upload", false},
		{"POST", "/api/upload/x", false},
		{"PATCH", "/api/recordings/0f1e2d3c-0000-0000-0000-000000000000", false},
		{"POST", "/auth/send-link", false},
		{"POST", "/api/uploads-not", false},
	}
	for _, tt := range tests {
		if got := routes.LargeBody(httptest.NewRequest(tt.method, tt.path, nil)); got != tt.want {
			t.Errorf("LargeBody(%s %s): got %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
}

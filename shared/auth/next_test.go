package auth

import "testing"

func TestSafeNextRefusesOtherSites(t *testing.T) {
	for _, tt := range []struct {
		next string
		ok   bool
	}{
		{"/", true},
		{"/recordings/6f1c2b9e-0000-4000-8000-000000000001", true},
		{"/recordings/6f1c2b9e-0000-4000-8000-000000000001#t=2:10", true},
		{"/?q=lantern%202003&sort=-recorded_date", true},
		{"/?q=%2F%2Fin+a+search", true}, // a query cannot change the host
		{"/upload", true},
		{"", false},
		{"recordings/x", false},
		{"//evil.example", false},
		{"//evil.example/recordings", false},
		{"///evil.example", false},
		{"https://evil.example", false},
		{"http:/evil.example", false},
		{"javascript:alert(1)", false},
		{"/\\evil.example", false},
		{"\\/evil.example", false},
		{"/%2F%2Fevil.example", false},
		{"/%2f%2fevil.example", false},
		{"%2F%2Fevil.example", false},
		{"/%5Cevil.example", false},
		{"/%5cevil.example", false},
		{"/\t/evil.example", false},
		{"/\n/evil.example", false},
		{"/ /evil.example", false},
		{"/x\x00", false},
		{"/\xff", false},
		{"/auth/verify/abc", false},
		{"/auth/logout", false},
		{"/" + string(make([]byte, MaxNextLen)), false},
	} {
		got := SafeNext(tt.next)
		if want := map[bool]string{true: tt.next, false: "/"}[tt.ok]; got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", tt.next, got, want)
		}
	}
}

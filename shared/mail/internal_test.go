package mail

import (
	"testing"
	"time"
)

func TestExponentialBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration // the wait before jitter
	}{
		{1, 500 * time.Millisecond},
		{2, time.Second},
		{3, 2 * time.Second},
		{4, 4 * time.Second},
		{5, 8 * time.Second},
		{9, 8 * time.Second},
		{100, 8 * time.Second},
	}
	for _, tt := range tests {
		for range 20 {
			got := exponentialBackoff(tt.attempt)
			if got < tt.want/2 || got >= tt.want {
				t.Errorf("attempt %d: got %v, want within [%v, %v)", tt.attempt, got, tt.want/2, tt.want)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		want   time.Duration
		wantOK bool
	}{
		{"seconds", "30", 30 * time.Second, true},
		{"zero", "0", 0, true},
		{"negative is now", "-5", 0, true},
		{"http date", "Sat, 01 Mar 2025 12:00:42 GMT", 42 * time.Second, true},
		{"past date is now", "Sat, 01 Mar 2025 11:00:00 GMT", 0, true},
		{"missing", "", 0, false},
		{"garbage", "soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.header, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %v, %v, want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDomainOf(t *testing.T) {
	for addr, want := range map[string]string{
		"alice@Example.ORG": "example.org",
		"odd@name@host.io":  "host.io",
		"no-at-sign":        "",
	} {
		if got := domainOf(addr); got != want {
			t.Errorf("domainOf(%q): got %q, want %q", addr, got, want)
		}
	}
}

func TestParseRetryAfterHuge(t *testing.T) {
	got, ok := parseRetryAfter("99999999999999", time.Now())
	if !ok || got < 24*time.Hour {
		t.Errorf("got %v, %v, want a wait of more than a day", got, ok)
	}
}

func TestNormaliseAddress(t *testing.T) {
	for in, want := range map[string]string{
		"  Ann@Band.Example ": "ann@band.example",
		"José@band.example":   "josé@band.example",
	} {
		if got, err := NormaliseAddress(in); err != nil || got != want {
			t.Errorf("NormaliseAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "ann", "Ann <ann@band.example>", "ann\x00@band.example",
		"\xff\xfe@band.example", "ann@band\xc3\x28.example", // invalid UTF-8: ToLower would make it U+FFFD
		"\ufffd@band.example", "ann\u202e@band.example", "ann@\u2066band.example", "an\u200bn@band.example",
		"ann\u0085@band.example", "ann@band.example\r\nBcc: all@band.example",
	} {
		if got, err := NormaliseAddress(in); err == nil {
			t.Errorf("NormaliseAddress(%q) = %q, want an error", in, got)
		}
	}
}

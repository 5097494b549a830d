package limits_test

import (
	"testing"

	"bandarchive/shared/limits"
)

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{limits.DefaultMaxUploadBytes, "500 MB"},
		{1 << 20, "1 MB"},
		{3<<20 + 1000, "3 MB"},
		{1000, "1 KB"},
		{1025, "2 KB"},
	}
	for _, tt := range tests {
		if got := limits.HumanBytes(tt.n); got != tt.want {
			t.Errorf("HumanBytes(%d): got %q, want %q", tt.n, got, tt.want)
		}
	}
	if got, want := limits.TooLargeMessage(limits.DefaultMaxUploadBytes), "The file is larger than the archive accepts (at most 500 MB)."; got != want {
		t.Errorf("TooLargeMessage: got %q, want %q", got, want)
	}
}

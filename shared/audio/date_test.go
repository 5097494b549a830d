package audio

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	now := time.Date(2025, 6, 1, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want string // YYYY-MM-DD, "" for nil
	}{
		{in: "1998", want: "1998-01-01"},
		{in: "1998-07", want: "1998-07-01"},
		{in: "1998-07-14", want: "1998-07-14"},
		{in: "1998-07-14T20:30:00", want: "1998-07-14"},
		{in: "1998-07-14T23:30:00-05:00", want: "1998-07-14"}, // the date as written
		{in: "1998-07-14 20:30", want: "1998-07-14"},
		{in: "1998:07:14", want: "1998-07-14"},
		{in: "1998/07/14", want: "1998-07-14"},
		{in: "  1998-07-14 \x00", want: "1998-07-14"},
		{in: "1900-01-01", want: "1900-01-01"},
		{in: "2025-06-01", want: "2025-06-01"},
		{in: "2024-02-29", want: "2024-02-29"},
		{in: ""},
		{in: "98"},
		{in: "abcd"},
		{in: "19980714"},
		{in: "1998-7-14"},
		{in: "1998-07/14"},
		{in: "1998T20:30"},
		{in: "1998-07-14X"},
		{in: "14.07.1998"},
		{in: "0000-00-00"},
		{in: "1899-12-31"},
		{in: "2025-06-02"},
		{in: "2031"},
		{in: "1998-13-01"},
		{in: "1998-00-10"},
		{in: "2023-02-29"},
		{in: "1998-07-32"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := formatDate(parseDate(tt.in, now)); got != tt.want {
				t.Errorf("parseDate(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseYearDayMonth(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		year, ddmm string
		want       string
	}{
		{year: "1998", ddmm: "1407", want: "1998-07-14"},
		{year: "1998", ddmm: "", want: "1998-01-01"},
		{year: "1998", ddmm: "3213", want: "1998-01-01"}, // damaged TDAT: the year alone
		{year: "1998", ddmm: "14-7", want: "1998-01-01"},
		{year: "98", ddmm: "1407"},
		{year: "1850", ddmm: "1407"},
		{year: "2026", ddmm: "0101"},
	}
	for _, tt := range tests {
		if got := formatDate(parseYearDayMonth(tt.year, tt.ddmm, now)); got != tt.want {
			t.Errorf("parseYearDayMonth(%q, %q): got %q, want %q", tt.year, tt.ddmm, got, tt.want)
		}
	}
}

func formatDate(d *time.Time) string {
	if d == nil {
		return ""
	}
	if d.Location() != time.UTC || d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0 {
		return "not a UTC midnight: " + d.String()
	}
	return d.Format(time.DateOnly)
}

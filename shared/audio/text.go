package audio

import (
	"encoding/binary"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// cleanText makes a tag's text fit to show: it ends at the first NUL, reads
// bytes that are not UTF-8 as Latin-1 (what old RIFF and ID3v1 tags hold),
// turns control characters into spaces and trims.
func cleanText(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if !utf8.ValidString(s) {
		s = latin1(s)
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// latin1 decodes ISO-8859-1 bytes.
func latin1(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// decodeUTF16 decodes UTF-16 in the given byte order up to the first NUL
// code unit; a trailing odd byte is dropped.
func decodeUTF16(b []byte, bigEndian bool) string {
	units := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		var order binary.ByteOrder = binary.LittleEndian
		if bigEndian {
			order = binary.BigEndian
		}
		u := order.Uint16(b[i:])
		if u == 0 {
			break
		}
		units = append(units, u)
	}
	return string(utf16.Decode(units))
}

// Dates earlier than this are typos or placeholder values, not recordings.
const earliestYear = 1900

// parseDate reads the date a tag gives for a recording, as a UTC midnight.
// It accepts "YYYY", "YYYY-MM", "YYYY-MM-DD" and a date followed by a time
// ("YYYY-MM-DDTHH:MM:SS", with or without a zone); the separator may also be
// ':' or '/' (as BWF writers use), the same one twice. A missing month or
// day is the first one. It returns nil for anything else, and for dates
// before 1900 or after now.
func parseDate(s string, now time.Time) *time.Time {
	s = strings.TrimSpace(strings.TrimRight(s, "\x00"))
	year, ok := digits(s, 0, 4)
	if !ok {
		return nil
	}
	month, day := 1, 1
	rest := s[4:]
	if rest != "" {
		sep := rest[0]
		if sep != '-' && sep != ':' && sep != '/' {
			return nil
		}
		if month, ok = digits(rest, 1, 2); !ok {
			return nil
		}
		rest = rest[3:]
		if rest != "" {
			if rest[0] != sep {
				return nil
			}
			if day, ok = digits(rest, 1, 2); !ok {
				return nil
			}
			rest = rest[3:]
			// A time of day may follow the full date; only the date is kept.
			if rest != "" && rest[0] != 'T' && rest[0] != ' ' {
				return nil
			}
		}
	}
	return plausibleDate(year, month, day, now)
}

// parseYearDayMonth joins ID3v2.3's TYER ("1998") and TDAT ("1407", day
// then month) into a date. Without a valid TDAT it is the year alone.
func parseYearDayMonth(year, ddmm string, now time.Time) *time.Time {
	y, ok := digits(strings.TrimSpace(year), 0, 4)
	if !ok || len(strings.TrimSpace(year)) != 4 {
		return nil
	}
	ddmm = strings.TrimSpace(ddmm)
	d, okD := digits(ddmm, 0, 2)
	m, okM := digits(ddmm, 2, 2)
	if len(ddmm) == 4 && okD && okM {
		if t := plausibleDate(y, m, d, now); t != nil {
			return t
		}
	}
	return plausibleDate(y, 1, 1, now) // no day and month, or damaged ones
}

// plausibleDate builds the date, or nil when it does not exist (2001-02-30)
// or cannot be a recording's (before 1900, after now).
func plausibleDate(year, month, day int, now time.Time) *time.Time {
	if month < 1 || month > 12 || day < 1 {
		return nil
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day || year < earliestYear || t.After(now) {
		return nil
	}
	return &t
}

// digits reads the n-digit decimal number at s[at:].
func digits(s string, at, n int) (int, bool) {
	if at < 0 || len(s) < at+n {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[at : at+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// Package metadata validates the fields a member can set on a recording,
// the same way for an upload's form and for an edit.
package metadata

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"bandarchive/shared/db"
	"bandarchive/shared/errs"
)

// Limits, in characters. The pages' maxlength attributes are the same
// numbers (a test compares them).
const (
	MaxTitle       = 200
	MaxVenue       = 200
	MaxSource      = 100
	MaxNotes       = 10000
	MaxDisplayName = 80
)

// Title trims and checks a title: not empty, not too long.
func Title(s string) (string, error) {
	t, err := Text("title", s, MaxTitle)
	if err == nil && t == "" {
		return "", errs.InvalidField("title", "The title cannot be empty.")
	}
	return t, err
}

// DisplayName checks a member's name: its spaces folded to one, not
// empty, not too long, no control or direction-changing characters, no
// invisible ones (a zero-width space, a soft hyphen: the joiners that
// some scripts and emoji need excepted), and at least one letter or digit
// that shows, so that nobody appears on the band page as a blank.
func DisplayName(s string) (string, error) {
	name, err := Text("display_name", strings.Join(strings.Fields(s), " "), MaxDisplayName)
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", errs.InvalidField("display_name", "Please enter your name (at most %d characters).", MaxDisplayName)
	}
	shows := false
	for _, r := range name {
		if unicode.Is(unicode.Cf, r) && r != '\u200C' && r != '\u200D' {
			return "", errs.InvalidField("display_name", "The display name contains invisible characters.")
		}
		shows = shows || (unicode.IsLetter(r) || unicode.IsNumber(r)) && !filler(r)
	}
	if !shows {
		return "", errs.InvalidField("display_name", "The display name needs at least one letter or digit.")
	}
	return name, nil
}

// filler reports whether r is one of the Hangul fillers: letters by
// category that draw nothing.
func filler(r rune) bool {
	return r == '\u115F' || r == '\u1160' || r == '\u3164' || r == '\uFFA0'
}

// Text trims and checks a free-text field, named as in the API. Notes keep
// their line breaks and tabs; other control characters, NUL among them
// (which PostgreSQL cannot store), are refused, and so are the invisible
// characters that change the direction of text, with which a name or
// title could be made to read as something else.
func Text(field, s string, max int) (string, error) {
	label := strings.ReplaceAll(field, "_", " ")
	if !utf8.ValidString(s) {
		return "", errs.InvalidField(field, "The %s is not valid text.", label)
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > max {
		return "", errs.InvalidField(field, "The %s is too long (%d characters, at most %d).", label, n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && (field != "notes" || r != '\n' && r != '\r' && r != '\t') {
			return "", errs.InvalidField(field, "The %s contains control characters.", label)
		}
		if bidiControl(r) {
			return "", errs.InvalidField(field, "The %s contains invisible characters that change the direction of text.", label)
		}
	}
	return s, nil
}

// bidiControl reports whether r is a Unicode bidirectional formatting
// character (embeddings, overrides, isolates and marks).
func bidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// Date parses a recorded date, YYYY-MM-DD; "" clears it (nil). Dates
// before 1900 or after today are refused as typos.
func Date(s string, now time.Time) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	d, err := time.Parse(db.DateLayout, s)
	if err != nil {
		return nil, errs.InvalidField("recorded_date", "The recorded date must look like 1998-07-14.")
	}
	if d.Year() < 1900 || d.After(now) {
		return nil, errs.InvalidField("recorded_date", "The recorded date %s is not plausible.", s)
	}
	return &d, nil
}

// Fields are the editable fields as a form or JSON gives them; nil means
// "not given".
type Fields struct {
	Title        *string
	RecordedDate *string
	Venue        *string
	Source       *string
	Notes        *string
}

// Edit validates f into a database edit.
func (f Fields) Edit(now time.Time) (db.RecordingEdit, error) {
	var e db.RecordingEdit
	var err error
	text := func(field string, v *string, max int) *string {
		if v == nil || err != nil {
			return nil
		}
		var t string
		t, err = Text(field, *v, max)
		return &t
	}
	if f.Title != nil {
		var t string
		if t, err = Title(*f.Title); err != nil {
			return e, err
		}
		e.Title = &t
	}
	if f.RecordedDate != nil {
		d, derr := Date(*f.RecordedDate, now)
		if derr != nil {
			return e, derr
		}
		e.RecordedDate = &d
	}
	e.Venue = text("venue", f.Venue, MaxVenue)
	e.Source = text("source", f.Source, MaxSource)
	e.Notes = text("notes", f.Notes, MaxNotes)
	return e, err
}

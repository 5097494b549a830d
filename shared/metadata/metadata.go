// Package metadata validates the fields a member can set on a recording,
// the same way for an upload's form and for an edit.
package metadata

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"bandarchive/shared/db"
	"bandarchive/shared/httpx"
)

// Limits, in characters.
const (
	MaxTitle  = 200
	MaxVenue  = 200
	MaxSource = 100
	MaxNotes  = 10000
)

// Title trims and checks a title: not empty, not too long.
func Title(s string) (string, error) {
	t, err := Text("title", s, MaxTitle)
	if err == nil && t == "" {
		return "", httpx.Errorf(httpx.Invalid, "The title cannot be empty.")
	}
	return t, err
}

// Text trims and checks a free-text field. Notes keep their line breaks;
// other control characters are refused.
func Text(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", httpx.Errorf(httpx.Invalid, "The %s is not valid text.", field)
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > max {
		return "", httpx.Errorf(httpx.Invalid, "The %s is too long (%d characters, at most %d).", field, n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && (field != "notes" || r != '\n' && r != '\r' && r != '\t') {
			return "", httpx.Errorf(httpx.Invalid, "The %s contains control characters.", field)
		}
	}
	return s, nil
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
		return nil, httpx.Errorf(httpx.Invalid, "The recorded date must look like 1998-07-14.")
	}
	if d.Year() < 1900 || d.After(now) {
		return nil, httpx.Errorf(httpx.Invalid, "The recorded date %s is not plausible.", s)
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

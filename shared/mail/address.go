package mail

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadAddress is NormaliseAddress's refusal.
var ErrBadAddress = errors.New("not a valid email address")

// NormaliseAddress trims and lower-cases an address and checks that it is
// a plain address (no display name, valid UTF-8, at most 254 bytes), as
// users.email stores it. Control and invisible formatting characters
// (bidi overrides, zero-width spaces) are refused, which net/mail lets
// through, and so is U+FFFD: strings.ToLower and the JSON decoder turn
// invalid UTF-8 into it, and no real address holds it.
func NormaliseAddress(s string) (string, error) {
	if !utf8.ValidString(s) { // checked first: ToLower would repair it
		return "", ErrBadAddress
	}
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" || len(e) > 254 || strings.ContainsFunc(e, unprintable) {
		return "", ErrBadAddress
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", ErrBadAddress
	}
	return e, nil
}

// unprintable reports whether r has no place in an address: a control or
// formatting character, or the replacement of an invalid byte.
func unprintable(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

package mail

import (
	"errors"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// ErrBadAddress is NormaliseAddress's refusal.
var ErrBadAddress = errors.New("not a valid email address")

// NormaliseAddress trims and lower-cases an address and checks that it is
// a plain address (no display name, valid UTF-8, at most 254 bytes), as
// users.email stores it.
func NormaliseAddress(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" || len(e) > 254 || !utf8.ValidString(e) || strings.ContainsRune(e, 0) {
		return "", ErrBadAddress
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", ErrBadAddress
	}
	return e, nil
}

// Package auth holds the secrets of sign-in: token generation and hashing,
// session cookies, the middleware that puts the member on the request, and
// the Origin check that refuses cross-site writes.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// TokenBytes is the entropy of every secret token: links, invites, sessions.
const TokenBytes = 32

// tokenLen is the length of a token's URL-safe text form.
var tokenLen = base64.RawURLEncoding.EncodedLen(TokenBytes)

var encoding = base64.RawURLEncoding.Strict()

// ErrMalformedToken is returned for text that cannot be a token.
var ErrMalformedToken = errors.New("malformed token")

// Token is a secret as it travels: in a link or a cookie. Only its Hash is
// ever stored.
type Token string

// NewToken returns a fresh random token.
func NewToken() Token {
	var b [TokenBytes]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return weak bytes)
	return Token(encoding.EncodeToString(b[:]))
}

// ParseToken checks that s has the exact shape of a token (43 URL-safe
// base64 characters for 32 bytes), so anything else is refused before a
// database lookup.
func ParseToken(s string) (Token, error) {
	if len(s) != tokenLen {
		return "", ErrMalformedToken
	}
	b, err := encoding.DecodeString(s)
	if err != nil || len(b) != TokenBytes {
		return "", ErrMalformedToken
	}
	return Token(s), nil
}

// Hash is what the database keeps: SHA-256 of the token's text. The token
// has 256 bits of entropy, so a plain hash cannot be reversed by guessing.
func (t Token) Hash() []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// String returns the token's text; never log it.
func (t Token) String() string { return string(t) }

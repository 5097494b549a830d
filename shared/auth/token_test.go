package auth_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"bandarchive/shared/auth"
)

// knownToken is the token of the 32 bytes 0, 1, ..., 31.
var knownToken = func() string {
	var b [auth.TokenBytes]byte
	for i := range b {
		b[i] = byte(i)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}()

func TestParseToken(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"a real token", knownToken, true},
		{"a fresh token", auth.NewToken().String(), true},
		{"empty", "", false},
		{"42 characters", knownToken[:42], false},
		{"44 characters", knownToken + "A", false},
		{"padded", knownToken + "=", false},
		{"padding inside", knownToken[:42] + "=", false},
		{"standard alphabet +", "+" + knownToken[1:], false},
		{"standard alphabet /", "/" + knownToken[1:], false},
		{"non-ASCII", "é" + knownToken[2:], false},
		{"a space", " " + knownToken[1:], false},
		{"a newline the decoder would skip", "\n" + knownToken[1:], false},
		// The last character carries 2 unused bits: only one spelling of the
		// 32 bytes is accepted.
		{"non-zero trailing bits", knownToken[:42] + "9", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := auth.ParseToken(tt.in)
			if got := err == nil; got != tt.want {
				t.Fatalf("ParseToken(%q): got accepted=%v (err %v), want %v", tt.in, got, err, tt.want)
			}
			if !tt.want && !errors.Is(err, auth.ErrMalformedToken) {
				t.Errorf("got error %v, want ErrMalformedToken", err)
			}
			if tt.want && tok.String() != tt.in {
				t.Errorf("got token %q, want %q", tok, tt.in)
			}
		})
	}
}

func FuzzParseToken(f *testing.F) {
	for _, seed := range []string{
		knownToken,
		auth.NewToken().String(),
		"",
		knownToken[:42],
		knownToken + "A",
		knownToken[:42] + "=",
		knownToken + "=",
		"+" + knownToken[1:],
		"/" + knownToken[1:],
		"é" + knownToken[2:],
		"\n" + knownToken[1:],
		knownToken[:42] + "9",
		strings.Repeat("_", 43),
		strings.Repeat("-", 43),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := auth.ParseToken(s)
		if err != nil {
			if !errors.Is(err, auth.ErrMalformedToken) || tok != "" {
				t.Fatalf("ParseToken(%q): got %q, %v, want \"\", ErrMalformedToken", s, tok, err)
			}
			return
		}
		if len(s) != 43 || tok.String() != s {
			t.Fatalf("ParseToken(%q): accepted %q (length %d), want the 43 characters given", s, tok, len(s))
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil || len(b) != auth.TokenBytes {
			t.Fatalf("accepted %q decodes to %d bytes (err %v), want %d", s, len(b), err, auth.TokenBytes)
		}
		if again := base64.RawURLEncoding.EncodeToString(b); again != s {
			t.Fatalf("accepted %q re-encodes to %q, want it canonical", s, again)
		}
		if h := tok.Hash(); len(h) != 32 {
			t.Fatalf("Hash(%q): got %d bytes, want 32", s, len(h))
		}
	})
}

func FuzzTokenFromCookie(f *testing.F) {
	for _, seed := range []string{
		"",
		auth.CookieName + "=" + knownToken,
		"theme=dark; " + auth.CookieName + "=" + knownToken + "; lang=en",
		auth.CookieName + `="` + knownToken + `"`,
		auth.CookieName + "=" + knownToken[:42],
		auth.CookieName + "=" + knownToken + "=",
		auth.CookieName + "=; " + auth.CookieName + "=" + knownToken,
		auth.CookieName + "=" + knownToken + "; " + auth.CookieName + "=other",
		"bandarchive_session" + knownToken,
		"=;;=; ;" + auth.CookieName,
		"\x00\xff" + auth.CookieName + "=" + knownToken,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := &http.Request{Header: http.Header{"Cookie": {header}}}
		tok, err := auth.TokenFrom(r)
		if err != nil {
			if tok != "" {
				t.Fatalf("TokenFrom(Cookie: %q): got %q with error %v, want no token", header, tok, err)
			}
			return
		}
		if _, err := auth.ParseToken(tok.String()); err != nil {
			t.Fatalf("TokenFrom(Cookie: %q): got %q, which ParseToken refuses: %v", header, tok, err)
		}
		if !strings.Contains(header, tok.String()) {
			t.Fatalf("TokenFrom(Cookie: %q): got %q, which is not in the header", header, tok)
		}
	})
}

func TestTokenFrom(t *testing.T) {
	tests := []struct {
		name   string
		cookie string // "" sends no Cookie header
		want   string // "" for an error
	}{
		{"no cookie", "", ""},
		{"other cookies only", "theme=dark; lang=en", ""},
		{"the session cookie", auth.CookieName + "=" + knownToken, knownToken},
		{"among others", "theme=dark; " + auth.CookieName + "=" + knownToken, knownToken},
		{"malformed value", auth.CookieName + "=not-a-token", ""},
		{"empty value", auth.CookieName + "=", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "https://archive.test/api/me", nil)
			if tt.cookie != "" {
				r.Header.Set("Cookie", tt.cookie)
			}
			tok, err := auth.TokenFrom(r)
			if tt.want == "" {
				if !errors.Is(err, auth.ErrMalformedToken) {
					t.Errorf("got %q, %v, want ErrMalformedToken", tok, err)
				}
				return
			}
			if err != nil || tok.String() != tt.want {
				t.Errorf("got %q, %v, want %q", tok, err, tt.want)
			}
		})
	}
}

func TestNewTokensAreUniqueAndWellFormed(t *testing.T) {
	const n = 5000
	tokens := make(map[auth.Token]bool, n)
	hashes := make(map[string]bool, n)
	for range n {
		tok := auth.NewToken()
		if tokens[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		tokens[tok] = true
		if _, err := auth.ParseToken(tok.String()); err != nil {
			t.Fatalf("ParseToken(NewToken() = %q): %v", tok, err)
		}
		h := tok.Hash()
		if len(h) != 32 {
			t.Fatalf("Hash: got %d bytes, want 32", len(h))
		}
		if hashes[string(h)] {
			t.Fatalf("hash of %q seen before", tok)
		}
		hashes[string(h)] = true
		if bytes.Contains(h, []byte(tok)) {
			t.Fatalf("hash of %q contains the token", tok)
		}
	}
}

func TestHashIsStable(t *testing.T) {
	tok, err := auth.ParseToken(knownToken)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := tok.Hash(), tok.Hash(); !bytes.Equal(a, b) {
		t.Errorf("two hashes of one token: got %x and %x, want equal", a, b)
	}
}

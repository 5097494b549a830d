package auth

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxNextLen bounds a return path: a page of the archive with its filters.
const MaxNextLen = 2048

// SafeNext returns next when it is a path of this site that a sign-in may
// return to, and "/" otherwise. Only a relative path passes: it starts with
// one slash and names no other host however a browser reads it, so a
// crafted link cannot send a member who signs in to another site (an open
// redirect). Refused: anything with a scheme or a host ("https://evil",
// "//evil"), a backslash ("/\evil", which browsers read as "//evil"),
// control characters and spaces, encoded slashes or backslashes in the path
// ("/%2F%2Fevil"), and the sign-in routes themselves (/auth/…).
func SafeNext(next string) string {
	if !safeNext(next) {
		return "/"
	}
	return next
}

func safeNext(next string) bool {
	if len(next) == 0 || len(next) > MaxNextLen || !utf8.ValidString(next) {
		return false
	}
	if next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return false
	}
	for _, r := range next {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return false
		}
	}
	path, _, _ := strings.Cut(next, "?")
	path, _, _ = strings.Cut(path, "#")
	lower := strings.ToLower(path)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(lower, "%00") {
		return false
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return false
	}
	return u.Path != "/auth" && !strings.HasPrefix(u.Path, "/auth/")
}

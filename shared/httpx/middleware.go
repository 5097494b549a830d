package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"time"
)

type ctxKey int

const (
	loggerKey ctxKey = iota
	requestIDKey
	clientIPKey
)

// Logger returns the request's logger (with its request id), or one that
// discards when the request came through no middleware.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return discard
}

// RequestID returns the request's id, "" outside the middleware.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// ClientIP is the address the request came from: the trusted proxy header
// when one is configured and present, else the peer address.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey).(string); ok && ip != "" {
		return ip
	}
	return peerIP(r.RemoteAddr)
}

func peerIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr // the Lambda edge gives a bare address
}

// Options configure Stack.
type Options struct {
	Logger *slog.Logger
	// ClientIPHeader names a header set by a trusted reverse proxy (Nginx's
	// X-Real-IP); empty trusts only the peer address.
	ClientIPHeader string
	// Now is the clock for request durations.
	Now func() time.Time
}

// Stack puts the middleware every function shares around h: request id,
// security headers, request log (with tokens redacted), a guaranteed status,
// and the client address.
func Stack(h http.Handler, o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := o.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		log := o.Logger.With("request_id", id)
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, loggerKey, log)
		if o.ClientIPHeader != "" {
			if ip := strings.TrimSpace(r.Header.Get(o.ClientIPHeader)); net.ParseIP(ip) != nil {
				ctx = context.WithValue(ctx, clientIPKey, ip)
			}
		}
		r = r.WithContext(ctx)

		tw := Track(w)
		tw.Header().Set("X-Request-Id", id)
		SetSecurityHeaders(tw.Header())
		HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			h.ServeHTTP(w, r)
			return nil
		}).ServeHTTP(tw, r)
		if tw.Status() == 0 {
			// net/http would send 200 here, the Lambda adapter would fail:
			// answer the same on both edges.
			tw.WriteHeader(http.StatusOK)
		}
		log.Info("request",
			"method", r.Method,
			"path", RedactPath(r.URL.Path),
			"status", tw.Status(),
			"bytes", tw.Bytes(),
			"duration_ms", float64(o.Now().Sub(start).Microseconds())/1000,
			"ip", ClientIP(r),
		)
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// secretPrefixes are paths whose next segment is a secret token.
var secretPrefixes = []string{"/auth/verify/", "/auth/join/", "/join/"}

// RedactPath hides the token segment of link paths, so no log holds a
// working link.
func RedactPath(p string) string {
	if clean := path.Clean(p); clean != p && clean+"/" != p {
		p = clean // "/x/../auth/verify/t" is the same link
	}
	// Paths are matched as Nginx and a browser may spell them: any case.
	lower := strings.ToLower(p)
	for _, prefix := range secretPrefixes {
		if strings.HasPrefix(lower, prefix) && len(p) > len(prefix) {
			rest := p[len(prefix):]
			tail := ""
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				tail = rest[i:]
			}
			return p[:len(prefix)] + "REDACTED" + tail
		}
	}
	return p
}

// ContentSecurityPolicy allows only the archive's own scripts, styles and
// media: no inline script anywhere.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// SetSecurityHeaders sets the headers SPEC.md requires on every response.
func SetSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Permissions-Policy", "autoplay=(self), camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	h.Set("Cache-Control", "no-store")
}

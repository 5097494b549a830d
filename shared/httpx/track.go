package httpx

import (
	"io"
	"net/http"
)

// Tracked is a ResponseWriter that remembers the status and size written,
// for the request log and so an error after the first byte is not written
// twice. It keeps sendfile working through ReadFrom.
type Tracked struct {
	http.ResponseWriter
	status int
	bytes  int64
}

// Track wraps w, or returns it when it is already tracked.
func Track(w http.ResponseWriter) *Tracked {
	if t, ok := w.(*Tracked); ok {
		return t
	}
	return &Tracked{ResponseWriter: w}
}

// Status is the status written so far, 0 before any.
func (t *Tracked) Status() int { return t.status }

// Bytes is the number of body bytes written so far.
func (t *Tracked) Bytes() int64 { return t.bytes }

// WriteHeader records the first status.
func (t *Tracked) WriteHeader(code int) {
	if t.status == 0 && code >= 200 {
		t.status = code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *Tracked) Write(b []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	n, err := t.ResponseWriter.Write(b)
	t.bytes += int64(n)
	return n, err
}

// ReadFrom lets io.Copy reach the server's sendfile path.
func (t *Tracked) ReadFrom(r io.Reader) (int64, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	n, err := io.Copy(t.ResponseWriter, r)
	t.bytes += n
	return n, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (t *Tracked) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// Flush passes a flush through when the underlying writer supports it.
func (t *Tracked) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

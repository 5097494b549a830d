package runtime

import (
	"io"
	"net/http"
	"time"
)

// Default body deadlines of the self-hosted edge. The server has no
// overall read timeout (a 500 MB upload on a slow line takes most of an
// hour), so each request body gets its own bound instead:
//
//   - a small body (every route but uploads: at most 64 KiB of JSON or a
//     form) must arrive within BodyTimeout;
//   - a large body (Options.LargeBody: uploads) must keep a minimum rate:
//     MinBodyBytes within every BodyWindow, about 17 kbit/s, far below any
//     home line, far above a client that trickles bytes to hold a
//     connection open.
const (
	DefaultBodyTimeout  = 30 * time.Second
	DefaultBodyWindow   = 30 * time.Second
	DefaultMinBodyBytes = 64 << 10
)

// bodyDeadlines puts a read deadline on each request body as Options
// says, and lifts it once the body is read, so a slow answer (a long
// download) is never cut for want of more body.
func bodyDeadlines(h http.Handler, o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		d := &deadlineBody{body: r.Body, rc: http.NewResponseController(w), window: o.BodyTimeout}
		if o.LargeBody != nil && o.LargeBody(r) {
			d.window, d.min = o.BodyWindow, o.MinBodyBytes
		}
		d.extend()
		r.Body = d
		h.ServeHTTP(w, r)
	})
}

// deadlineBody moves the connection's read deadline: window ahead at the
// start and, for a minimum rate (min > 0), again each time min more bytes
// have arrived; cleared at the end of the body.
type deadlineBody struct {
	body   io.ReadCloser
	rc     *http.ResponseController
	window time.Duration
	min    int64
	got    int64
}

func (d *deadlineBody) extend() { d.rc.SetReadDeadline(time.Now().Add(d.window)) }

func (d *deadlineBody) Read(p []byte) (int, error) {
	n, err := d.body.Read(p)
	d.got += int64(n)
	switch {
	case err == io.EOF:
		d.rc.SetReadDeadline(time.Time{})
	case d.min > 0 && d.got >= d.min:
		d.got = 0
		d.extend()
	}
	return n, err
}

func (d *deadlineBody) Close() error { return d.body.Close() }

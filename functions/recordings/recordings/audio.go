package recordings

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
	"bandarchive/shared/media"
	"bandarchive/shared/storage"
)

// audio plays a recording's original back: Range (206), HEAD,
// ETag/If-None-Match and the real Content-Type, so a browser can seek
// anywhere in a 500 MB WAV at once. Behind Nginx (ACCEL_REDIRECT_PREFIX
// set) the function only authorises and names the file; Nginx sends the
// bytes with sendfile.
func (h *handler) audio(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rec, err := h.DB.File(r.Context(), id)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("download") == "1" {
		w.Header().Set("Content-Disposition", Attachment(rec.OriginalFilename))
	}
	return h.serve(w, r, served{
		mime: rec.MIMEType, etag: hex.EncodeToString(rec.SHA256), modified: rec.UploadedAt,
		rel: storage.RelPath(rec.ID, rec.Format), path: h.Store.Path(rec.ID, rec.Format),
	})
}

// listen plays the listening copy, exactly as audio plays the original;
// before it is made, 404 with the code not_ready.
func (h *handler) listen(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := h.DB.Copy(r.Context(), id)
	if err != nil {
		return err
	}
	if c.Status != db.Ready || c.MIMEType == "" {
		msg := "The listening copy is not made yet; the original plays meanwhile."
		if c.Status == db.Failed || c.Status == db.Ready {
			msg = "This recording has no listening copy; the original plays."
		}
		return errs.Errorf(errs.NotReady, "%s", msg)
	}
	return h.serve(w, r, served{
		mime: c.MIMEType, etag: "listen-" + hex.EncodeToString(c.SHA256), modified: c.UploadedAt,
		rel: storage.RelCopyPath(id, media.CopyExt), path: h.Store.CopyPath(id, media.CopyExt),
	})
}

// process processes a recording again after its processing failed (an
// admin's retry).
func (h *handler) process(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := h.DB.RetryProcessing(r.Context(), id); err != nil {
		return err
	}
	if h.Wake != nil {
		h.Wake(r.Context())
	}
	u, _ := auth.UserFrom(r.Context())
	rec, err := h.DB.Recording(r.Context(), id, u.ID)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusAccepted, rec)
}

// served is a file to play back.
type served struct {
	mime, etag string
	modified   time.Time
	rel, path  string // below the uploads directory (for Nginx), and absolute
}

// serve sends f with Range, HEAD and ETag, or names it to Nginx.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, f served) error {
	hdr := w.Header()
	hdr.Set("Content-Type", f.mime)
	hdr.Set("ETag", `"`+f.etag+`"`)
	// The bytes behind this URL never change; only members may keep them.
	hdr.Set("Cache-Control", "private, max-age=86400")
	if prefix := h.AccelRedirectPrefix; prefix != "" {
		hdr.Set("X-Accel-Redirect", strings.TrimRight(prefix, "/")+"/"+f.rel)
		w.WriteHeader(http.StatusOK)
		return nil
	}
	file, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("open %s: %w", f.rel, err)
	}
	defer file.Close()
	if onlyEmptySuffixes(r.Header.Get("Range")) {
		// "the last 0 bytes" is unsatisfiable (RFC 9110 14.1.3); net/http
		// would answer a 206 with an inverted Content-Range.
		st, err := file.Stat()
		if err != nil {
			return fmt.Errorf("stat %s: %w", f.rel, err)
		}
		hdr.Set("Content-Range", fmt.Sprintf("bytes */%d", st.Size()))
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return nil
	}
	if h.MaxResponseBytes > 0 && r.Method != http.MethodHead {
		if st, err := file.Stat(); err == nil && st.Size() > h.MaxResponseBytes {
			r.Header.Set("Range", capRange(r.Header.Get("Range"), h.MaxResponseBytes))
		}
	}
	http.ServeContent(w, r, "", f.modified, file)
	return nil
}

// capRange rewrites a Range header so that its one range asks for at most
// max bytes: none (the whole file) becomes the first max bytes; an open or
// longer range is cut. Players ask for the next range where one ends.
// Several ranges are left as they are.
func capRange(h string, max int64) string {
	if h == "" {
		return fmt.Sprintf("bytes=0-%d", max-1)
	}
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return h
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return h
	}
	if first == "" { // the last n bytes
		if n, err := strconv.ParseInt(last, 10, 64); err == nil && n > max {
			return fmt.Sprintf("bytes=-%d", max)
		}
		return h
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return h
	}
	if end, err := strconv.ParseInt(last, 10, 64); last == "" || err == nil && end-start+1 > max {
		return fmt.Sprintf("bytes=%d-%d", start, start+max-1)
	}
	return h
}

// onlyEmptySuffixes reports whether a Range header asks only for suffixes
// of length zero ("bytes=-0"), which no file can satisfy.
func onlyEmptySuffixes(h string) bool {
	specs, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return false
	}
	for spec := range strings.SplitSeq(specs, ",") {
		spec = strings.TrimSpace(spec)
		if n, ok := strings.CutPrefix(spec, "-"); !ok || strings.Trim(n, "0") != "" || n == "" {
			return false
		}
	}
	return true
}

// Attachment is a Content-Disposition that offers name for saving: an
// ASCII fallback for old clients and the exact UTF-8 name (RFC 6266 and
// RFC 8187) for the rest, with nothing that could break out of the header.
func Attachment(name string) string {
	fallback := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' || r == ';' {
			return '_'
		}
		return r
	}, name)
	var enc strings.Builder
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			enc.WriteByte(b)
		} else {
			fmt.Fprintf(&enc, "%%%02X", b)
		}
	}
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + enc.String()
}

// isAttrChar reports whether b may stand unescaped in an RFC 8187 value.
func isAttrChar(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}

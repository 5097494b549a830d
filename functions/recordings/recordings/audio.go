package recordings

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"bandarchive/shared/storage"
)

// audio plays a recording back: Range (206), HEAD, ETag/If-None-Match and
// the real Content-Type, so a browser can seek anywhere in a 500 MB WAV at
// once. Behind Nginx (ACCEL_REDIRECT_PREFIX set) the function only
// authorises and names the file; Nginx sends the bytes with sendfile.
func (h *handler) audio(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rec, err := h.DB.File(r.Context(), id)
	if err != nil {
		return err
	}
	hdr := w.Header()
	hdr.Set("Content-Type", rec.MIMEType)
	hdr.Set("ETag", `"`+hex.EncodeToString(rec.SHA256)+`"`)
	// The bytes behind this URL never change; only members may keep them.
	hdr.Set("Cache-Control", "private, max-age=86400")
	if r.URL.Query().Get("download") == "1" {
		hdr.Set("Content-Disposition", Attachment(rec.OriginalFilename))
	}
	if prefix := h.AccelRedirectPrefix; prefix != "" {
		hdr.Set("X-Accel-Redirect", strings.TrimRight(prefix, "/")+"/"+storage.RelPath(rec.ID, rec.Format))
		w.WriteHeader(http.StatusOK)
		return nil
	}
	f, err := h.Store.Open(rec.ID, rec.Format)
	if err != nil {
		return fmt.Errorf("open the file of recording %s: %w", rec.ID, err)
	}
	defer f.Close()
	if onlyEmptySuffixes(r.Header.Get("Range")) {
		// "the last 0 bytes" is unsatisfiable (RFC 9110 14.1.3); net/http
		// would answer a 206 with an inverted Content-Range.
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("stat the file of recording %s: %w", rec.ID, err)
		}
		hdr.Set("Content-Range", fmt.Sprintf("bytes */%d", st.Size()))
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return nil
	}
	if h.MaxResponseBytes > 0 && r.Method != http.MethodHead {
		if st, err := f.Stat(); err == nil && st.Size() > h.MaxResponseBytes {
			r.Header.Set("Range", capRange(r.Header.Get("Range"), h.MaxResponseBytes))
		}
	}
	http.ServeContent(w, r, "", rec.UploadedAt, f)
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

package apptest

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// TusMetadata encodes Upload-Metadata: keys with base64 values.
func TusMetadata(meta map[string]string) string {
	var pairs []string
	for k, v := range meta {
		pairs = append(pairs, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

// tusRequest is a request of the tus protocol, version header set.
func (b *Browser) tusRequest(method, path string, body []byte) *http.Request {
	var r *http.Request
	if body == nil {
		r = NewRequest(b.h.T, method, path, nil)
	} else {
		r = NewRequest(b.h.T, method, path, body)
		r.Header.Set("Content-Type", "application/offset+octet-stream")
	}
	r.Header.Set("Tus-Resumable", "1.0.0")
	return r
}

// TusCreate starts a resumable upload of length bytes; the answer's
// Location names it.
func (b *Browser) TusCreate(length int64, meta map[string]string) Response {
	b.h.T.Helper()
	r := b.tusRequest("POST", "/api/uploads", nil)
	r.Header.Set("Upload-Length", strconv.FormatInt(length, 10))
	r.Header.Set("Upload-Metadata", TusMetadata(meta))
	return b.Do(r)
}

// TusPatch sends chunk at offset to the upload at path.
func (b *Browser) TusPatch(path string, offset int64, chunk []byte) Response {
	b.h.T.Helper()
	if chunk == nil {
		chunk = []byte{}
	}
	r := b.tusRequest("PATCH", path, chunk)
	r.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	return b.Do(r)
}

// TusHead asks where the upload at path stands.
func (b *Browser) TusHead(path string) Response {
	b.h.T.Helper()
	return b.Do(b.tusRequest("HEAD", path, nil))
}

// TusUpload sends content as a resumable upload in chunks of chunk bytes
// and returns the path of the upload and the last answer.
func (b *Browser) TusUpload(meta map[string]string, content []byte, chunk int) (string, Response) {
	b.h.T.Helper()
	created := b.TusCreate(int64(len(content)), meta)
	if created.Status != http.StatusCreated {
		return "", created
	}
	path := created.Header.Get("Location")
	var last Response
	for off := 0; off < len(content); off += chunk {
		last = b.TusPatch(path, int64(off), content[off:min(off+chunk, len(content))])
		if last.Status != http.StatusNoContent {
			return path, last
		}
	}
	return path, last
}

package apptest

import (
	"bytes"
	"encoding/binary"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// WAV returns a real mono 16-bit PCM WAV file of n samples at rate Hz: a
// ramp, so no two files of different length share bytes.
func WAV(n, rate int) []byte {
	data := make([]byte, 2*n)
	for i := range n {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(i*37))
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// Multipart builds an upload form: the text fields first (as the UI sends
// them), then the file part.
func Multipart(t testing.TB, fields map[string]string, filename string, content []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if content != nil {
		fw, err := mw.CreateFormFile("file", filename)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// Upload posts a file (and fields) to /api/upload.
func (b *Browser) Upload(fields map[string]string, filename string, content []byte) Response {
	b.h.T.Helper()
	body, ct := Multipart(b.h.T, fields, filename, content)
	r := NewRequest(b.h.T, "POST", "/api/upload", body)
	r.Header.Set("Content-Type", ct)
	return b.Do(r)
}

// UploadOK uploads a file (and fields) that the archive must accept, and
// returns the recording it made; anything but 201 fails the test.
func (b *Browser) UploadOK(fields map[string]string, filename string, content []byte) Recording {
	b.h.T.Helper()
	r := b.Upload(fields, filename, content)
	if r.Status != http.StatusCreated {
		b.h.T.Fatalf("upload %s: %d %s", filename, r.Status, r.Body)
	}
	var rec Recording
	r.JSON(b.h.T, &rec)
	return rec
}

// UploadsLeft lists every file under the uploads directory, those in the
// working folders too, relative to it: all the archive keeps on disk.
func (h *Harness) UploadsLeft() []string {
	h.T.Helper()
	var left []string
	dir := h.Parts.Config.Storage.UploadsDir
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			left = append(left, rel)
		}
		return nil
	})
	return left
}

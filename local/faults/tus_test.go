package faults

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"bandarchive/shared/apptest"
)

// TestResumableUploadSurvivesSIGKILL: an upload function is killed in the
// middle of a chunk of a resumable upload. Another process, sharing the
// folder and the database, reports the last acknowledged offset (the
// killed chunk's bytes on disk are not acknowledged) and the upload
// continues from there to a recording with exactly the file's bytes.
func TestResumableUploadSurvivesSIGKILL(t *testing.T) {
	f := setup(t)
	f.logTails(t)
	victim := f.startUpload(t, "upload-tus-victim", f.uploads)
	heir := f.startUpload(t, "upload-tus-heir", f.uploads)
	content := uniqueWAV(600_000) // 1.2 MB
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{"Tus-Resumable": "1.0.0"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}

	created := f.write("POST", victim.url+"/api/uploads", f.member, with(map[string]string{
		"Upload-Length":   strconv.Itoa(len(content)),
		"Upload-Metadata": apptest.TusMetadata(map[string]string{"filename": "killed.wav", "title": "killed " + randomName()}),
	}), nil)
	if created.status != 201 {
		t.Fatalf("create: %s", created)
	}
	path := created.header.Get("Location")
	const first = 400_000
	patch := func(base string, offset int, chunk []byte) answer {
		return f.write("PATCH", base+path, f.member, with(map[string]string{
			"Upload-Offset": strconv.Itoa(offset), "Content-Type": "application/offset+octet-stream"}), chunk)
	}
	if a := patch(victim.url, 0, content[:first]); a.status != 204 || a.header.Get("Upload-Offset") != strconv.Itoa(first) {
		t.Fatalf("first chunk: %s", a)
	}

	// The second chunk is half sent when its process dies.
	host := strings.TrimPrefix(victim.url, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nCookie: %s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: %d\r\n"+
		"Content-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n",
		path, host, f.s.BaseURL, f.member.cookie, first, len(content)-first)
	conn.Write(content[first : first+300_000])
	partial := filepath.Join(f.uploads, ".partial", filepath.Base(path))
	waitFor(t, "the second chunk on disk", patience, func() (bool, string) {
		fi, err := os.Stat(partial)
		return err == nil && fi.Size() > first, fmt.Sprint(fi, err)
	})
	if err := syscall.Kill(victim.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done

	head := do("HEAD", heir.url+path, with(map[string]string{"Cookie": f.member.cookie}), nil)
	if head.status != 200 || head.header.Get("Upload-Offset") != strconv.Itoa(first) {
		t.Fatalf("HEAD after the kill: %s Upload-Offset %q, want 200 and the acknowledged %d", head, head.header.Get("Upload-Offset"), first)
	}
	last := patch(heir.url, first, content[first:])
	id := last.header.Get("Recording-Id")
	if last.status != 204 || id == "" {
		t.Fatalf("the rest, to another process: %s", last)
	}
	stored, err := os.ReadFile(filepath.Join(f.uploads, id, "original.wav"))
	if err != nil || !bytes.Equal(stored, content) {
		t.Fatalf("stored %d bytes (%v), want the file's %d exactly", len(stored), err, len(content))
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("the finished upload's partial file remains: %v", err)
	}
}

// TestTwoProcessesPatchOneUpload: while one upload-function process writes
// a chunk of an upload, another process sharing the folder and database
// refuses a chunk of the same upload (423), so their bytes never
// interleave; once the first is done, the second continues from its offset.
func TestTwoProcessesPatchOneUpload(t *testing.T) {
	f := setup(t)
	f.logTails(t)
	one := f.startUpload(t, "upload-tus-one", f.uploads)
	two := f.startUpload(t, "upload-tus-two", f.uploads)
	content := uniqueWAV(400_000) // 800 KB
	created := f.write("POST", one.url+"/api/uploads", f.member, map[string]string{"Tus-Resumable": "1.0.0",
		"Upload-Length":   strconv.Itoa(len(content)),
		"Upload-Metadata": apptest.TusMetadata(map[string]string{"filename": "shared.wav"}),
	}, nil)
	if created.status != 201 {
		t.Fatalf("create: %s", created)
	}
	path := created.header.Get("Location")
	const half = 400_000

	host := strings.TrimPrefix(one.url, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nCookie: %s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"+
		"Content-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n", path, host, f.s.BaseURL, f.member.cookie, half)
	conn.Write(content[:half/2])
	partial := filepath.Join(f.uploads, ".partial", filepath.Base(path))
	waitFor(t, "the first process writing", patience, func() (bool, string) {
		fi, err := os.Stat(partial)
		return err == nil && fi.Size() > 0, fmt.Sprint(err)
	})
	patch := func(base string, offset int, chunk []byte) answer {
		return f.write("PATCH", base+path, f.member, map[string]string{"Tus-Resumable": "1.0.0",
			"Upload-Offset": strconv.Itoa(offset), "Content-Type": "application/offset+octet-stream"}, chunk)
	}
	if a := patch(two.url, 0, content[:half]); a.status != 423 {
		t.Fatalf("the second process while the first writes: %s, want 423", a)
	}
	conn.Write(content[half/2 : half])
	waitFor(t, "the first chunk acknowledged", patience, func() (bool, string) {
		h := do("HEAD", two.url+path, map[string]string{"Tus-Resumable": "1.0.0", "Cookie": f.member.cookie}, nil)
		return h.header.Get("Upload-Offset") == strconv.Itoa(half), h.String()
	})
	last := patch(two.url, half, content[half:])
	id := last.header.Get("Recording-Id")
	if last.status != 204 || id == "" {
		t.Fatalf("the rest, to the second process: %s", last)
	}
	stored, err := os.ReadFile(filepath.Join(f.uploads, id, "original.wav"))
	if err != nil || !bytes.Equal(stored, content) {
		t.Fatalf("stored %d bytes (%v), want the file's %d exactly", len(stored), err, len(content))
	}
}

package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bandarchive/shared/apptest"
	"bandarchive/shared/routes"
)

// TestFullDisk runs an upload function of the test's own (the stack's
// binary and database) with its uploads folder on a 2 MB tmpfs, and
// uploads a 3 MB WAV to it: the answer is 507 insufficient_storage, the
// function logs an ERROR, and nothing is left, on disk or in the database.
// A file that fits is then archived as usual. It needs root to mount; it
// fails without under CI and skips elsewhere.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		missing(t, "mounting a small tmpfs for the uploads folder needs root")
	}
	f := setup(t)
	f.logTails(t)
	dir := filepath.Join(f.root, "small-disk-"+randomName())
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		missing(t, fmt.Sprintf("mount -t tmpfs -o size=2m tmpfs %s: %v", dir, err))
	}
	t.Cleanup(func() { // after the process has stopped (cleanups run last first)
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	p := f.startUpload(t, "upload-small-disk", dir)

	title := "too big " + randomName()
	big := apptest.WAV(1_500_000, 44100) // 3 MB
	a := f.upload(t, p.url, f.member, title, big)
	if a.err != nil || a.status != http.StatusInsufficientStorage || a.code() != "insufficient_storage" {
		t.Fatalf("a %d-byte upload onto 2 MB: %s; want 507 insufficient_storage", len(big), a)
	}
	t.Logf("answered %s", a)
	waitFor(t, "an ERROR about the full disk in "+p.log, 10*time.Second, func() (bool, string) {
		lines := logLines(p.log, 0, func(e map[string]any, line string) bool {
			return e["level"] == "ERROR" && strings.Contains(line, "insufficient_storage")
		})
		return len(lines) > 0, "none yet"
	})
	for _, rel := range files(dir) {
		// Only the empty working folders (.tmp, .trash, ...) may remain.
		if !strings.HasPrefix(rel, ".") || strings.Count(rel, "/") != 1 || !strings.HasSuffix(rel, "/") {
			t.Errorf("the refused upload left %s in the uploads folder", rel)
		}
	}
	if n := f.rows(t, "title = $1", title); n != 0 {
		t.Errorf("the refused upload left %d recordings rows", n)
	}

	small := uniqueWAV(20_000)
	a = f.upload(t, p.url, f.member, "fits "+randomName(), small)
	if a.status != http.StatusCreated {
		t.Fatalf("a %d-byte upload after the refused one: %s; want 201", len(small), a)
	}
	var rec struct{ ID string }
	json.Unmarshal(a.body, &rec)
	if got, err := os.ReadFile(filepath.Join(dir, rec.ID, "original.wav")); err != nil || !bytes.Equal(got, small) {
		t.Errorf("the archived file: %v, %d bytes; want the %d bytes uploaded", err, len(got), len(small))
	}
}

// TestKilledUploadIsSwept starts a large upload on an upload function of
// the test's own, which shares the uploads folder and the database with
// the stack's, sends half of it, and SIGKILLs that process: the stack's
// upload function, sweeping every UPLOADS_SWEEP_INTERVAL, leaves the
// temporary file alone while its writer lives (it holds the file's lock)
// and removes it once the writer is dead.
func TestKilledUploadIsSwept(t *testing.T) {
	f := setup(t)
	f.logTails(t)
	victim := f.startUpload(t, "upload-victim", f.uploads)
	tmp := filepath.Join(f.uploads, ".tmp")
	before, _ := os.ReadDir(tmp)

	title := "killed " + randomName()
	body, ct := apptest.Multipart(t, map[string]string{"title": title}, "killed.wav", uniqueWAV(1_000_000))
	host := strings.TrimPrefix(victim.url, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/upload HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nCookie: %s\r\n\r\n",
		host, f.s.BaseURL, ct, len(body), f.member.cookie)
	if _, err := conn.Write(body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}

	var name string // the victim's temporary file
	waitFor(t, "a temporary file in "+tmp, patience, func() (bool, string) {
		entries, _ := os.ReadDir(tmp)
		for _, e := range entries {
			if !slices.ContainsFunc(before, func(b os.DirEntry) bool { return b.Name() == e.Name() }) {
				name = e.Name()
				return true, ""
			}
		}
		return false, "none yet"
	})
	path := filepath.Join(tmp, name)

	// While its writer lives, the file is old enough for the sweep after
	// one interval, and survives at least two sweeps: its lock is held.
	waitFor(t, "the live upload's file aged three sweep intervals", patience, func() (bool, string) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("the sweep removed the temporary file of a live upload: %v", err)
		}
		age := time.Since(fi.ModTime())
		return age > 3*sweepInterval, fmt.Sprintf("%d bytes, %s old", fi.Size(), age.Round(time.Millisecond))
	})

	if err := syscall.Kill(victim.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-victim.done:
	case <-time.After(patience):
		t.Fatal("the upload function did not die of SIGKILL")
	}
	killed := time.Now()
	waitFor(t, "the sweep removes "+path, patience, func() (bool, string) {
		_, err := os.Stat(path)
		return os.IsNotExist(err), fmt.Sprint(err)
	})
	t.Logf("the stack's upload function removed the dead upload's file %s after the kill", time.Since(killed).Round(time.Millisecond))
	sweeper := f.s.LogFile(routes.Upload)
	if lines := logLines(sweeper, 0, func(e map[string]any, _ string) bool {
		return e["msg"] == "removed the temporary file of an interrupted upload" && e["file"] == name
	}); len(lines) != 1 {
		t.Errorf("%s logged the removal of %s %d times, want once", sweeper, name, len(lines))
	}
	if n := f.rows(t, "title = $1", title); n != 0 {
		t.Errorf("the killed upload left %d recordings rows", n)
	}
	// The client got no answer, only the end of the connection.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, _ := readAll(conn); len(b) != 0 {
		t.Errorf("the killed upload answered: %q", b)
	}
}

// TestDeleteRace deletes each of many recordings twice at once, by its
// uploader and by an admin: one deletion wins (204), the other finds
// nothing (404), and neither the row nor any file of the recording is left,
// in its folder or in the trash.
func TestDeleteRace(t *testing.T) {
	f := setup(t)
	f.logTails(t)
	const rounds = 30
	began, done := time.Now(), 0
	logged := logSize(f.s.LogFile(routes.Recordings))
	for i := range rounds {
		a := f.upload(t, f.s.URL, f.member, fmt.Sprintf("race %d %s", i, randomName()), uniqueWAV(4000))
		if a.status != http.StatusCreated {
			t.Fatalf("round %d: upload: %s", i, a)
		}
		var rec struct{ ID string }
		if err := json.Unmarshal(a.body, &rec); err != nil || rec.ID == "" {
			t.Fatalf("round %d: upload answered %s", i, a.body)
		}
		u := f.s.URL + "/api/recordings/" + url.PathEscape(rec.ID)

		var answers [2]answer
		var ready, wg sync.WaitGroup
		gate := make(chan struct{})
		for j, who := range []person{f.member, f.admin} {
			ready.Add(1)
			wg.Go(func() {
				ready.Done()
				<-gate
				answers[j] = f.write("DELETE", u, who, nil, nil)
			})
		}
		ready.Wait()
		close(gate)
		wg.Wait()

		statuses := []int{answers[0].status, answers[1].status}
		slices.Sort(statuses)
		if !slices.Equal(statuses, []int{http.StatusNoContent, http.StatusNotFound}) {
			t.Errorf("round %d: the uploader got %s, the admin %s; want one 204 and one 404", i, answers[0], answers[1])
		}
		for _, a := range answers {
			if a.status == http.StatusNotFound && a.code() != "not_found" {
				t.Errorf("round %d: 404 without the JSON not_found error: %s", i, a)
			}
		}
		if n := f.rows(t, "id = $1", rec.ID); n != 0 {
			t.Errorf("round %d: the row of %s is still there", i, rec.ID)
		}
		// The files are in the trash, once, kept for the backups of the
		// trash retention; nowhere else.
		trashed := 0
		for _, rel := range files(f.uploads) {
			switch {
			case !strings.Contains(rel, rec.ID):
			case strings.HasPrefix(rel, ".trash/") && strings.HasSuffix(rel, "/") && strings.Count(rel, "/") == 2:
				trashed++ // the folder .trash/{id}.{suffix}/
			case !strings.HasPrefix(rel, ".trash/"):
				t.Errorf("round %d: %s is left in the uploads folder", i, rel)
			}
		}
		if trashed != 1 {
			t.Errorf("round %d: the trash holds %d folders of %s, want 1", i, trashed, rec.ID)
		}
		done++
		if t.Failed() {
			break
		}
	}
	t.Logf("%d rounds in %s", done, time.Since(began).Round(time.Millisecond))
	if lines := logLines(f.s.LogFile(routes.Recordings), logged, func(e map[string]any, _ string) bool {
		return e["level"] == "ERROR"
	}); len(lines) != 0 {
		t.Errorf("the recordings function logged errors:\n%s", strings.Join(lines, "\n"))
	}
}

// readAll reads conn until it ends or its deadline passes.
func readAll(conn net.Conn) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(conn)
	return b.Bytes(), err
}

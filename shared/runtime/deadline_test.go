package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"bandarchive/shared/runtime"
)

// readAll answers 200 with the size of the body it could read, or 400 with
// the error that stopped it.
var readAll = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprint(w, n)
})

// trickle sends a request whose body of size bytes comes in pieces of
// piece bytes every pause, and returns the status line, or "" when the
// server cut the connection first.
func trickle(t *testing.T, addr, path string, size, piece int, pause time.Duration) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", path, size)
	chunk := strings.Repeat("x", piece)
	for sent := 0; sent < size; sent += piece {
		if _, err := io.WriteString(conn, chunk[:min(piece, size-sent)]); err != nil {
			break // cut
		}
		time.Sleep(pause) // the client's own pace, not a wait for the server
	}
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line)
}

// TestBodiesThatTrickleAreCut runs the self-hosted edge without Nginx in
// front: a small body must arrive within BodyTimeout; a large one (an
// upload) must keep the minimum rate, however long it takes in all.
func TestBodiesThatTrickleAreCut(t *testing.T) {
	s := startServe(t, readAll, runtime.Options{
		BodyTimeout: time.Second, BodyWindow: 2 * time.Second, MinBodyBytes: 1000,
		LargeBody: func(r *http.Request) bool { return r.URL.Path == "/upload" },
	})
	tests := []struct {
		name, path   string
		size, piece  int
		pause        time.Duration
		wantAnswered bool
	}{
		{"small body in time", "/form", 100, 100, 0, true},
		{"small body that trickles past the timeout", "/form", 40, 1, 100 * time.Millisecond, false},
		{"large body at a good rate, longer than any total timeout", "/upload", 3000 * 40, 3000, 100 * time.Millisecond, true},
		{"large body below the minimum rate", "/upload", 400, 10, 200 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := trickle(t, s.addr, tt.path, tt.size, tt.piece, tt.pause)
			answered := got == "HTTP/1.1 200 OK"
			if answered != tt.wantAnswered {
				t.Fatalf("status line %q: answered %v, want %v", got, answered, tt.wantAnswered)
			}
		})
	}
}

// TestALongAnswerIsNotCut: once the body is read, its deadline is lifted,
// so an answer that takes longer than the body timeout (a download) still
// gets through and the request is not cancelled.
func TestALongAnswerIsNotCut(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-time.After(1500 * time.Millisecond): // longer than BodyTimeout
		case <-r.Context().Done():
			http.Error(w, "cancelled", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "done")
	})
	s := startServe(t, h, runtime.Options{BodyTimeout: 500 * time.Millisecond})
	resp, err := s.client.Post("http://"+s.addr+"/x", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "done" {
		t.Fatalf("got %d %q, want 200 done", resp.StatusCode, b)
	}
}

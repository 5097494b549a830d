// Command uploadbench measures a large upload over loopback: the upload
// function as its own process, in one request and resumable (tus, in
// chunks of each size given), and in the same run the same bytes sent to a
// minimal reference handler (multipart part → 64 KiB buffered writer →
// file, SHA-256, fsync, nothing else). It prints throughput and each
// server's peak RSS growth (VmHWM).
//
//	go run ./local/uploadbench -mb 500 -runs 3 -tus-mib 8
//
// It needs DATABASE_URL (make bench sets it) and builds bin/upload first.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"bandarchive/shared/auth"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "reference" {
		if err := serveReference(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	mb := flag.Int("mb", 500, "size of the uploaded WAV in MB (10^6 bytes)")
	runs := flag.Int("runs", 3, "uploads per server; the median is reported")
	chunks := flag.String("tus-mib", "8", "chunk sizes of the resumable uploads, in MiB, comma-separated")
	flag.Parse()
	var sizes []int64
	for c := range strings.SplitSeq(*chunks, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "uploadbench: -tus-mib wants MiB like 1,4,8,16")
			os.Exit(2)
		}
		sizes = append(sizes, int64(n)<<20)
	}
	if err := run(context.Background(), int64(*mb)*1_000_000, *runs, sizes); err != nil {
		fmt.Fprintln(os.Stderr, "uploadbench:", err)
		os.Exit(1)
	}
}

type result struct {
	name   string
	mbps   []float64
	growth []int64 // KiB
}

func run(ctx context.Context, size int64, runs int, chunks []int64) error {
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		return errors.New("DATABASE_URL is not set (run make bench)")
	}
	work, err := os.MkdirTemp("", "uploadbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "upload")
	if out, err := exec.Command("go", "build", "-o", bin, "./functions/upload").CombinedOutput(); err != nil {
		return fmt.Errorf("build upload: %v\n%s", err, out)
	}
	schemaURL, cookie, cleanup, err := prepareDB(ctx, dbURL, bin)
	if err != nil {
		return err
	}
	defer cleanup()

	self, err := os.Executable()
	if err != nil {
		return err
	}
	function := func(port, dir string) *exec.Cmd {
		c := exec.Command(bin)
		c.Env = append(os.Environ(), "DATABASE_URL="+schemaURL, "BASE_URL=http://127.0.0.1:"+port,
			"PORT="+port, "UPLOADS_DIR="+dir, "COOKIE_SECURE=false", "LOG_LEVEL=error",
			fmt.Sprintf("MAX_UPLOAD_BYTES=%d", size+1_000_000), fmt.Sprintf("MAX_CHUNK_BYTES=%d", slices.Max(chunks)))
		return c
	}
	ref := &result{name: "reference"}
	results := []*result{{name: "one request"}}
	for _, c := range chunks {
		results = append(results, &result{name: fmt.Sprintf("tus, %d MiB", c>>20)})
	}
	results = append(results, ref)
	ratios := make([][]float64, len(results))
	for i := range runs {
		order := slices.Clone(results)
		if i%2 == 1 {
			// Alternate the order, so no side always runs on a warmer cache.
			slices.Reverse(order)
		}
		for _, r := range order {
			cmd, send := function, sendForm
			switch {
			case r == ref:
				cmd = func(port, dir string) *exec.Cmd { return exec.Command(self, "reference", port, dir) }
			case r != results[0]:
				chunk := chunks[slices.Index(results, r)-1]
				send = func(base, cookie string, size int64) (int64, error) { return sendTus(base, cookie, size, chunk) }
			}
			mbps, growth, err := measure(cmd, send, size, cookie, filepath.Join(work, fmt.Sprintf("%d-%d", slices.Index(results, r), i)))
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			r.mbps = append(r.mbps, mbps)
			r.growth = append(r.growth, growth)
			fmt.Printf("run %d %-16s %7.1f MB/s  peak RSS growth %6.1f MiB\n", i+1, r.name, mbps, float64(growth)/1024)
		}
		for j, r := range results {
			ratios[j] = append(ratios[j], r.mbps[i]/ref.mbps[i])
		}
	}
	fmt.Printf("\n%d MB upload, median of %d runs\n", size/1_000_000, runs)
	for j, r := range results {
		fmt.Printf("%-16s %7.1f MB/s, %.2f of the reference (median of per-run ratios), peak RSS growth %.1f MiB (max of runs)\n",
			r.name+":", median(r.mbps), median(ratios[j]), float64(slices.Max(r.growth))/1024)
	}
	return nil
}

// prepareDB makes a schema of its own with one member and a session, and
// migrates it with the upload binary itself.
func prepareDB(ctx context.Context, dbURL, bin string) (string, string, func(), error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", "", nil, err
	}
	schema := fmt.Sprintf("uploadbench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", "", nil, err
	}
	cleanup := func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	}
	u, _ := url.Parse(dbURL)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	m := exec.Command(bin, "migrate")
	m.Env = append(os.Environ(), "DATABASE_URL="+u.String(), "ADMIN_EMAIL=bench@localhost.test", "LOG_LEVEL=warn")
	if out, err := m.CombinedOutput(); err != nil {
		cleanup()
		return "", "", nil, fmt.Errorf("migrate: %v\n%s", err, out)
	}
	t := auth.NewToken()
	_, err = conn.Exec(ctx, `INSERT INTO `+schema+`.sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
		SELECT gen_random_uuid(), $1, id, now(), now() + interval '1 day', now() FROM `+schema+`.users`, t.Hash())
	if err != nil {
		cleanup()
		return "", "", nil, err
	}
	return u.String(), auth.CookieName + "=" + t.String(), cleanup, nil
}

// measure starts a server, uploads one WAV of size bytes of data with
// send, and returns MB/s and the server's peak RSS growth in KiB.
func measure(cmd func(port, dir string) *exec.Cmd, send func(base, cookie string, size int64) (int64, error), size int64, cookie, dir string) (float64, int64, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	c := cmd(port, dir)
	c.Stderr = os.Stderr
	if err := c.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { c.Process.Kill(); c.Wait() }()
	base := "http://127.0.0.1:" + port
	if err := waitReady(base); err != nil {
		return 0, 0, err
	}
	before, err := status(c.Process.Pid, "VmRSS")
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	length, err := send(base, cookie, size)
	if err != nil {
		return 0, 0, err
	}
	took := time.Since(start)
	peak, err := status(c.Process.Pid, "VmHWM")
	if err != nil {
		return 0, 0, err
	}
	return float64(length) / 1e6 / took.Seconds(), peak - before, nil
}

// sendForm uploads in one multipart request and returns the bytes sent.
func sendForm(base, cookie string, size int64) (int64, error) {
	body, contentType, length := wavForm(size)
	req, _ := http.NewRequest("POST", base+"/api/upload", body)
	req.ContentLength = length
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", base)
	req.Header.Set("Cookie", cookie)
	return length, expect(http.DefaultClient.Do(req))(http.StatusCreated)
}

// sendTus uploads with the tus protocol in chunks of chunk bytes and
// returns the bytes sent.
func sendTus(base, cookie string, size, chunk int64) (int64, error) {
	file, length := wavFile(size)
	req, _ := http.NewRequest("POST", base+"/api/uploads", nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.FormatInt(length, 10))
	req.Header.Set("Upload-Metadata", "filename YmVuY2gud2F2") // bench.wav
	req.Header.Set("Origin", base)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err := expect(resp, err)(http.StatusCreated); err != nil {
		return 0, err
	}
	location := base + resp.Header.Get("Location")
	for off := int64(0); off < length; off += chunk {
		n := min(chunk, length-off)
		req, _ := http.NewRequest("PATCH", location, io.LimitReader(file, n))
		req.ContentLength = n
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Upload-Offset", strconv.FormatInt(off, 10))
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		req.Header.Set("Origin", base)
		req.Header.Set("Cookie", cookie)
		if err := expect(http.DefaultClient.Do(req))(http.StatusNoContent); err != nil {
			return 0, fmt.Errorf("chunk at %d: %w", off, err)
		}
	}
	return length, nil
}

// expect checks an answer's status, draining and closing its body.
func expect(resp *http.Response, err error) func(int) error {
	return func(want int) error {
		if err != nil {
			return err
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("status %d: %s", resp.StatusCode, out)
		}
		return nil
	}
}

// wavFile streams a WAV file of size data bytes: a random mebibyte
// repeated, so every run's file is new to the archive.
func wavFile(size int64) (io.Reader, int64) {
	block := make([]byte, 1<<20)
	rand.Read(block)
	hdr := make([]byte, 44)
	copy(hdr, "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+size))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[22:], 2)
	binary.LittleEndian.PutUint32(hdr[24:], 44100)
	binary.LittleEndian.PutUint32(hdr[28:], 44100*4)
	binary.LittleEndian.PutUint16(hdr[32:], 4)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(size))
	return io.MultiReader(bytesReader(hdr), io.LimitReader(repeat(block), size)), 44 + size
}

// wavForm streams a multipart form with one WAV of size data bytes: a
// random mebibyte repeated, so every run's file is new to the archive.
func wavForm(size int64) (io.Reader, string, int64) {
	boundary := "uploadbenchboundary"
	head := fmt.Sprintf("--%s\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nbench\r\n"+
		"--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.wav\"\r\nContent-Type: audio/wav\r\n\r\n", boundary, boundary)
	tail := fmt.Sprintf("\r\n--%s--\r\n", boundary)
	file, length := wavFile(size)
	total := int64(len(head)+len(tail)) + length
	return io.MultiReader(strings.NewReader(head), file, strings.NewReader(tail)),
		"multipart/form-data; boundary=" + boundary, total
}

type repeater struct {
	block []byte
	off   int
}

func repeat(b []byte) io.Reader { return &repeater{block: b} }

func (r *repeater) Read(p []byte) (int, error) {
	n := copy(p, r.block[r.off:])
	r.off = (r.off + n) % len(r.block)
	return n, nil
}

func bytesReader(b []byte) io.Reader { return strings.NewReader(string(b)) }

func status(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

func waitReady(base string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("server did not become ready")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// serveReference is the minimal upload handler the function is compared
// with: what any streaming upload must do, and nothing more.
func serveReference(port, dir string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /api/upload", func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FormName() != "file" {
				io.Copy(io.Discard, part)
				continue
			}
			if err := saveReference(part, dir); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.WriteHeader(http.StatusCreated)
	})
	return http.ListenAndServe("127.0.0.1:"+port, mux)
}

func saveReference(part *multipart.Part, dir string) error {
	f, err := os.CreateTemp(dir, "ref-*")
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	w := bufio.NewWriterSize(struct{ io.Writer }{f}, 64<<10)
	if _, err := io.Copy(io.MultiWriter(w, h), part); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	h.Sum(nil)
	return f.Sync()
}

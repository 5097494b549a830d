// Command uploadbench measures a large upload over loopback: the upload
// function as its own process, in one request and resumable (tus, in
// chunks of each size given), both straight to it and through Nginx in
// front of it (the production config of deploy/nginx, rendered for a local
// upstream as local/stack does), and in the same run the same bytes sent
// straight to a minimal reference handler (multipart part → 64 KiB
// buffered writer → file, SHA-256, fsync, nothing else). It prints
// throughput and each server's peak RSS growth (VmHWM); through Nginx also
// that of Nginx's workers.
//
//	go run ./local/uploadbench -mb 500 -runs 3 -tus-mib 8
//
// With -transcode it measures the worker's processing of a WAV of -mb MB
// instead (each ffmpeg pass as a multiple of real time), and the
// one-request upload idle and while a processing runs, in the same run:
//
//	go run ./local/uploadbench -transcode -mb 500 -runs 3
//
// It needs DATABASE_URL (make bench sets it), runs from the checkout's root
// and builds the upload function first. Without an nginx binary (Debian:
// apt-get install nginx) it measures without Nginx, and says so.
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
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"bandarchive/deploy/nginx"
	"bandarchive/local/stack"
	"bandarchive/shared/auth"
	"bandarchive/shared/routes"
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
	nginxBin, nginxErr := nginx.Binary()
	viaNginx := flag.Bool("nginx", nginxErr == nil, "also measure the function through Nginx in front of it (on by default when an nginx binary is found)")
	transcode := flag.Bool("transcode", false, "instead: measure the worker's processing of a WAV of -mb MB (× real time), and the one-request upload while it runs, next to idle")
	flag.Parse()
	if nginxErr != nil {
		if *viaNginx {
			fmt.Fprintln(os.Stderr, "uploadbench: -nginx:", nginxErr)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "uploadbench: note: %v; measuring without Nginx (-nginx=false)\n", nginxErr)
	}
	if !*viaNginx {
		nginxBin = ""
	}
	var sizes []int64
	for c := range strings.SplitSeq(*chunks, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "uploadbench: -tus-mib wants MiB like 1,4,8,16")
			os.Exit(2)
		}
		sizes = append(sizes, int64(n)<<20)
	}
	if err := run(context.Background(), int64(*mb)*1_000_000, *runs, sizes, nginxBin, *transcode); err != nil {
		fmt.Fprintln(os.Stderr, "uploadbench:", err)
		os.Exit(1)
	}
}

type result struct {
	name    string
	chunk   int64 // of a tus upload; 0 sends one request
	proxied bool  // through Nginx
	mbps    []float64
	// growth is the server's peak RSS growth, workers that of Nginx's
	// workers (summed), in KiB.
	growth, workers []int64
}

// run measures each mode runs times; nginxBin empty leaves Nginx out.
// With transcode it measures processing and uploads beside it instead.
func run(ctx context.Context, size int64, runs int, chunks []int64, nginxBin string, transcode bool) error {
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
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	maxUpload := size + 1_000_000
	// base is the origin clients use: the function's own, or Nginx's.
	function := func(port, base, dir string) *exec.Cmd {
		c := exec.Command(bin)
		c.Env = append(os.Environ(), "DATABASE_URL="+schemaURL, "BASE_URL="+base,
			"PORT="+port, "UPLOADS_DIR="+dir, "COOKIE_SECURE=false", "LOG_LEVEL=error",
			fmt.Sprintf("MAX_UPLOAD_BYTES=%d", maxUpload), fmt.Sprintf("MAX_CHUNK_BYTES=%d", slices.Max(chunks)))
		if base != "http://127.0.0.1:"+port {
			// Behind Nginx, as local/stack and production run it.
			c.Env = append(c.Env, "CLIENT_IP_HEADER=X-Real-IP")
		}
		return c
	}
	if transcode {
		return benchTranscode(ctx, work, size, runs, func(i int) (sample, error) {
			return measure(function, nil, sendForm, size, cookie, filepath.Join(work, fmt.Sprintf("t-%d", i)))
		})
	}
	ref := &result{name: "reference"}
	var results []*result
	for _, viaNginx := range []bool{false, true} {
		if viaNginx && nginxBin == "" {
			continue
		}
		suffix := ""
		if viaNginx {
			suffix = " via Nginx"
		}
		results = append(results, &result{name: "one request" + suffix, proxied: viaNginx})
		for _, c := range chunks {
			results = append(results, &result{name: fmt.Sprintf("tus %d MiB%s", c>>20, suffix), chunk: c, proxied: viaNginx})
		}
	}
	results = append(results, ref)
	width := 0
	for _, r := range results {
		width = max(width, len(r.name))
	}
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
				cmd = func(port, _, dir string) *exec.Cmd { return exec.Command(self, "reference", port, dir) }
			case r.chunk > 0:
				send = func(base, cookie string, size int64) (int64, error) { return sendTus(base, cookie, size, r.chunk) }
			}
			var front *proxy
			if r.proxied {
				front = &proxy{bin: nginxBin, root: root, maxUpload: maxUpload}
			}
			m, err := measure(cmd, front, send, size, cookie, filepath.Join(work, fmt.Sprintf("%d-%d", slices.Index(results, r), i)))
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			r.mbps = append(r.mbps, m.mbps)
			r.growth = append(r.growth, m.growth)
			r.workers = append(r.workers, m.workers)
			fmt.Printf("run %d %-*s %7.1f MB/s  peak RSS growth %6.1f MiB%s\n", i+1, width, r.name, m.mbps, float64(m.growth)/1024, workersNote(r, m.workers))
		}
		for j, r := range results {
			ratios[j] = append(ratios[j], r.mbps[i]/ref.mbps[i])
		}
	}
	fmt.Printf("\n%d MB upload, median of %d runs\n", size/1_000_000, runs)
	for j, r := range results {
		fmt.Printf("%-*s %7.1f MB/s, %.2f of the reference (median of per-run ratios), peak RSS growth %.1f MiB (max of runs)%s\n",
			width+1, r.name+":", median(r.mbps), median(ratios[j]), float64(slices.Max(r.growth))/1024, workersNote(r, slices.Max(r.workers)))
	}
	return nil
}

// workersNote describes the peak RSS growth of Nginx's workers, in KiB,
// for a mode through Nginx.
func workersNote(r *result, kib int64) string {
	if !r.proxied {
		return ""
	}
	return fmt.Sprintf(", Nginx workers %.1f MiB", float64(kib)/1024)
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

// sample is one upload's measurements.
type sample struct {
	mbps    float64
	growth  int64 // the server's peak RSS growth, KiB
	workers int64 // Nginx's workers' peak RSS growth, summed, KiB
}

// measure starts a server, and Nginx in front of it unless front is nil,
// uploads one WAV of size bytes of data with send, and returns MB/s and
// the peak RSS growth of the server and of Nginx's workers.
func measure(cmd func(port, base, dir string) *exec.Cmd, front *proxy, send func(base, cookie string, size int64) (int64, error), size int64, cookie, dir string) (sample, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(dir)
	// The server's port, Nginx's, and one where nothing listens.
	ports, err := freePorts(3)
	if err != nil {
		return sample{}, err
	}
	direct := "http://127.0.0.1:" + ports[0]
	base := direct
	if front != nil {
		base = "http://127.0.0.1:" + ports[1]
	}
	c := cmd(ports[0], base, dir)
	c.Stderr = os.Stderr
	if err := c.Start(); err != nil {
		return sample{}, err
	}
	defer func() { c.Process.Kill(); c.Wait() }()
	defer http.DefaultClient.CloseIdleConnections()
	if err := waitReady(direct, nil); err != nil {
		return sample{}, err
	}
	var workers []int
	if front != nil {
		stop, err := front.start(dir+"-nginx", ports[1], ports[0], ports[2], dir)
		if err != nil {
			return sample{}, err
		}
		defer stop()
		if workers, err = front.workers(); err != nil {
			return sample{}, err
		}
	}
	pids := append([]int{c.Process.Pid}, workers...)
	before := make([]int64, len(pids))
	for i, pid := range pids {
		if before[i], err = status(pid, "VmRSS"); err != nil {
			return sample{}, err
		}
	}
	start := time.Now()
	length, err := send(base, cookie, size)
	if err != nil {
		if front != nil {
			err = fmt.Errorf("%w\nNginx's error log:\n%s", err, front.errorLog())
		}
		return sample{}, err
	}
	took := time.Since(start)
	m := sample{mbps: float64(length) / 1e6 / took.Seconds()}
	for i, pid := range pids {
		peak, err := status(pid, "VmHWM")
		if err != nil {
			return sample{}, err
		}
		if i == 0 {
			m.growth = peak - before[i]
		} else {
			m.workers += peak - before[i]
		}
	}
	return m, nil
}

// proxy runs Nginx with the production config (deploy/nginx), rendered for
// the upload function on this machine as local/stack renders it.
type proxy struct {
	bin, root string
	maxUpload int64
	prefix    string
	cmd       *exec.Cmd
}

// start renders the config into prefix, checks it with nginx -t and runs
// Nginx on port in front of the upload function on upload until stop. The
// other functions of the route table do not run: their upstreams are port
// none, where nothing listens.
func (p *proxy) start(prefix, port, upload, none, uploadsDir string) (stop func(), err error) {
	if err := os.MkdirAll(filepath.Join(prefix, "tmp"), 0o755); err != nil {
		return nil, err
	}
	p.prefix = prefix
	ports := map[string]int{}
	for _, name := range routes.Functions() {
		ports[name], _ = strconv.Atoi(none)
	}
	ports[routes.Upload], _ = strconv.Atoi(upload)
	c := stack.NginxConfig(p.root, prefix, uploadsDir, []string{"127.0.0.1:" + port}, ports, p.maxUpload)
	c.Purpose = "go run ./local/uploadbench"
	var conf strings.Builder
	if err := nginx.Render(&conf, c); err != nil {
		return nil, fmt.Errorf("render the Nginx config: %w", err)
	}
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		return nil, err
	}
	args := []string{"-p", prefix, "-e", c.ErrorLog, "-c", confPath}
	if out, err := exec.Command(p.bin, append([]string{"-t", "-q"}, args...)...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nginx -t %s: %w\n%s", confPath, err, out)
	}
	p.cmd = exec.Command(p.bin, append(args, "-g", "daemon off;")...)
	p.cmd.Stdout, p.cmd.Stderr = os.Stderr, os.Stderr
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { p.cmd.Wait(); close(exited) }()
	stop = func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-exited
		}
		os.RemoveAll(prefix)
	}
	// Nginx's own /healthz carries HSTS: that tells it from any other
	// server on the port.
	ours := func(r *http.Response) bool { return r.Header.Get("Strict-Transport-Security") != "" }
	if err := waitReady("http://127.0.0.1:"+port, ours); err != nil {
		stop()
		return nil, fmt.Errorf("nginx: %w", err)
	}
	return stop, nil
}

// workers returns the process ids of Nginx's workers.
func (p *proxy) workers() ([]int, error) {
	pid := p.cmd.Process.Pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil, err
	}
	var ids []int
	for f := range strings.FieldsSeq(string(b)) {
		id, err := strconv.Atoi(f)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, errors.New("nginx has no worker processes")
	}
	return ids, nil
}

// errorLog returns the end of Nginx's error log, for error messages.
func (p *proxy) errorLog() string {
	b, err := os.ReadFile(filepath.Join(p.prefix, "error.log"))
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
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

// freePorts returns n distinct ports free on the loopback interface.
func freePorts(n int) ([]string, error) {
	var ports []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ports, nil
}

// waitReady polls base's /healthz until it answers 200 (and ok, if given,
// accepts the answer).
func waitReady(base string, ok func(*http.Response) bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && (ok == nil || ok(resp)) {
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

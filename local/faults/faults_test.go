// Package faults breaks what the archive depends on, for real, and checks
// that it answers as it should and heals without a restart: PostgreSQL
// frozen (SIGSTOP) and stopped, an uploads folder on a full filesystem, an
// upload function killed half-way through an upload, and two deletions of
// one recording racing, and an insert whose timeout is no answer (it
// commits after the function gave up).
//
// Nothing is simulated. The tests make their own throwaway PostgreSQL
// cluster (initdb in a temporary directory, a free port), start the
// production topology with local/stack (every function its own process,
// real Nginx in front) against it, and add upload-function processes of
// their own where a test needs one to kill or to point at a small disk.
// One cluster and one stack serve every test; the tests run one after the
// other (those that freeze or stop the database must), and each one that
// breaks something restores it in its cleanup.
package faults

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"bandarchive/deploy/nginx"
	"bandarchive/local/stack"
	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/routes"
)

const (
	// sweepInterval is UPLOADS_SWEEP_INTERVAL for every upload process:
	// short, so leftovers go within seconds.
	sweepInterval = 2 * time.Second
	// patience bounds every wait for something the archive must do.
	patience   = time.Minute
	adminEmail = "admin@faults.test"
)

// fixture is what the tests share: the cluster, the stack on it, and two
// signed-in members.
type fixture struct {
	root    string // temporary: the cluster, the stack's logs and binaries, the uploads
	pg      *cluster
	dbURL   string
	s       *stack.Stack
	uploads string
	bin     string // the function binaries the stack built

	admin, member person
}

// person is a signed-in user: their id and session cookie.
type person struct {
	id, cookie string
}

var (
	setupOnce sync.Once
	shared    *fixture
	setupErr  error
	teardown  []func() error // run by TestMain, last first
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(teardown) - 1; i >= 0; i-- {
		if err := teardown[i](); err != nil {
			fmt.Fprintln(os.Stderr, "faults: teardown:", err)
		}
	}
	os.Exit(code)
}

// setup returns the shared fixture, starting it on first use. A missing
// tool (PostgreSQL, Nginx) fails the test under CI and skips it otherwise.
func setup(t *testing.T) *fixture {
	t.Helper()
	setupOnce.Do(func() {
		began := time.Now()
		var progress bytes.Buffer
		shared, setupErr = start(&progress)
		if setupErr != nil && progress.Len() > 0 {
			setupErr = fmt.Errorf("%w\n%s", setupErr, strings.TrimSpace(progress.String()))
		}
		if setupErr == nil {
			t.Logf("cluster and stack started in %s:\n%s", time.Since(began).Round(time.Millisecond), strings.TrimSpace(progress.String()))
		}
	})
	if setupErr != nil {
		if errors.Is(setupErr, errMissingTool) {
			missing(t, setupErr.Error())
		}
		t.Fatal(setupErr)
	}
	return shared
}

// missing fails the test under CI, where every tool must be there, and
// skips it elsewhere.
func missing(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

func start(progress io.Writer) (*fixture, error) {
	if _, err := nginx.Binary(); err != nil {
		return nil, fmt.Errorf("%w: %v", errMissingTool, err)
	}
	if _, err := pgBinDir(); err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "bandarchive-faults-")
	if err != nil {
		return nil, err
	}
	teardown = append(teardown, func() error { return os.RemoveAll(root) })
	// The postgres user passes through root to its data directory.
	if err := os.Chmod(root, 0o755); err != nil {
		return nil, err
	}
	f := &fixture{root: root, uploads: filepath.Join(root, "uploads"), bin: filepath.Join(root, "bin")}
	if f.pg, err = newCluster(root); err != nil {
		return nil, err
	}
	teardown = append(teardown, f.pg.close)
	f.dbURL = f.pg.URL()

	ctx, cancel := context.WithCancel(context.Background())
	teardown = append(teardown, func() error { cancel(); return nil })
	f.s, err = stack.Start(ctx, stack.Options{
		Env: []string{
			"DATABASE_URL=" + f.dbURL, "UPLOADS_DIR=" + f.uploads,
			"UPLOADS_SWEEP_INTERVAL=" + sweepInterval.String(),
			"ADMIN_EMAIL=" + adminEmail, "MAILERSEND_API_TOKEN=", "BASE_URL=", "LOG_LEVEL=info",
			// ffmpeg at the worker's own priority: at 19 it waits for a busy
			// machine's other work, and the tests wait for it.
			"WORKER_FFMPEG_NICE=0",
		},
		Dir:      filepath.Join(root, "stack"),
		BuildDir: f.bin,
		Stderr:   progress,
	})
	if err != nil {
		return nil, err
	}
	teardown = append(teardown, f.s.Stop)

	// The migrate step made the admin; the member is added here.
	var adminID, memberID string
	err = f.sql(func(ctx context.Context, c *pgx.Conn) error {
		if err := c.QueryRow(ctx, `SELECT id FROM users WHERE email = $1 AND role = 'admin'`, adminEmail).Scan(&adminID); err != nil {
			return fmt.Errorf("the migrate step did not create the admin %s: %w", adminEmail, err)
		}
		return c.QueryRow(ctx, `INSERT INTO users (id, email, display_name, role)
			VALUES (gen_random_uuid(), 'ann@faults.test', 'Ann', 'member') RETURNING id`).Scan(&memberID)
	})
	if err != nil {
		return nil, err
	}
	if f.admin, err = f.signIn(adminID); err != nil {
		return nil, err
	}
	if f.member, err = f.signIn(memberID); err != nil {
		return nil, err
	}
	return f, nil
}

// signIn stores a session for a user, as verifying a link would, and
// returns the user with its cookie.
func (f *fixture) signIn(userID string) (person, error) {
	tok := auth.NewToken()
	err := f.sql(func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
			VALUES (gen_random_uuid(), $1, $2, now(), now() + interval '1 day', now())`, tok.Hash(), userID)
		return err
	})
	return person{id: userID, cookie: auth.CookieName + "=" + tok.String()}, err
}

// sql runs f on a connection of its own, so no pool carries a broken
// connection from one fault to the next.
func (f *fixture) sql(fn func(context.Context, *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, f.dbURL)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return fn(ctx, c)
}

// rows counts the recordings rows that match a condition.
func (f *fixture) rows(t *testing.T, where string, args ...any) int {
	t.Helper()
	var n int
	if err := f.sql(func(ctx context.Context, c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT count(*) FROM recordings WHERE `+where, args...).Scan(&n)
	}); err != nil {
		t.Fatalf("count recordings: %v", err)
	}
	return n
}

// probe is one request that needs the database.
type probe struct {
	name, url, cookie string
}

// probes are requests through Nginx to three functions, each with a
// session to look up, and every function's own /healthz (Nginx answers
// /healthz itself, without the database).
func (f *fixture) probes() []probe {
	ps := []probe{
		{"GET /api/recordings via Nginx", f.s.URL + "/api/recordings", f.member.cookie},
		{"GET /api/me via Nginx", f.s.URL + "/api/me", f.member.cookie},
		{"GET /api/scores via Nginx", f.s.URL + "/api/scores", f.member.cookie},
	}
	for _, name := range routes.Functions() {
		ps = append(ps, probe{"GET /healthz of " + name, fmt.Sprintf("http://127.0.0.1:%d%s", f.s.Ports[name], routes.HealthPath), ""})
	}
	return ps
}

// askAll sends every probe at once and returns their answers in order.
func (f *fixture) askAll(ps []probe) []answer {
	out := make([]answer, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			h := map[string]string{}
			if p.cookie != "" {
				h["Cookie"] = p.cookie
			}
			out[i] = do("GET", p.url, h, nil)
		})
	}
	wg.Wait()
	return out
}

// healthy waits until every probe answers 200.
func (f *fixture) healthy(t *testing.T) {
	t.Helper()
	ps := f.probes()
	waitFor(t, "every probe answers 200", patience, func() (bool, string) {
		var bad []string
		for i, a := range f.askAll(ps) {
			if a.status != http.StatusOK {
				bad = append(bad, ps[i].name+": "+a.String())
			}
		}
		return len(bad) == 0, strings.Join(bad, "; ")
	})
}

// alive checks that the stack's processes are the ones it started and
// still run: the archive healed without a restart.
func (f *fixture) alive(t *testing.T, before map[string]int) {
	t.Helper()
	for name, pid := range f.s.PIDs() {
		if before[name] != pid {
			t.Errorf("%s: pid %d, was %d", name, pid, before[name])
		}
		if st := procState(pid); st == "" || st == "Z" {
			t.Errorf("%s (pid %d) is no longer running", name, pid)
		}
	}
}

// logTails shows the end of the stack's logs and the cluster's when t has
// failed.
func (f *fixture) logTails(t *testing.T, extra ...string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		files := append([]string{f.pg.logPath, f.s.LogFile("nginx-error")}, extra...)
		for _, name := range routes.Functions() {
			files = append(files, f.s.LogFile(name))
		}
		for _, p := range files {
			t.Logf("the end of %s:\n%s", p, tail(p, 15))
		}
	})
}

// answer is what a request got.
type answer struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
	err    error
}

func (a answer) String() string {
	if a.err != nil {
		return fmt.Sprintf("error after %s: %v", a.took.Round(time.Millisecond), a.err)
	}
	return fmt.Sprintf("%d after %s: %s", a.status, a.took.Round(time.Millisecond), bytes.TrimSpace(a.body))
}

// code is the error code of a JSON error answer.
func (a answer) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(a.body, &e)
	return e.Error.Code
}

// client waits a minute at most: long enough that a request which hangs
// shows as slow, rather than as an error of the client's.
var client = &http.Client{
	Timeout:       patience,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// do sends one request.
func do(method, url string, header map[string]string, body []byte) answer {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return answer{err: err}
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	began := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err, took: time.Since(began)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, took: time.Since(began), err: err}
}

// write sends a state-changing request as the archive's pages do: with
// the session and an Origin equal to BASE_URL.
func (f *fixture) write(method, url string, who person, header map[string]string, body []byte) answer {
	h := map[string]string{"Origin": f.s.BaseURL, "Cookie": who.cookie}
	for k, v := range header {
		h[k] = v
	}
	return do(method, url, h, body)
}

// upload posts a WAV to base's /api/upload as who.
func (f *fixture) upload(t *testing.T, base string, who person, title string, wav []byte) answer {
	t.Helper()
	form, ct := apptest.Multipart(t, map[string]string{"title": title}, title+".wav", wav)
	return f.write("POST", base+"/api/upload", who, map[string]string{"Content-Type": ct}, form)
}

// wavs makes every WAV of a run different (a ramp of another length), so
// no upload is refused as a duplicate.
var wavs atomic.Int64

func uniqueWAV(samples int) []byte {
	return apptest.WAV(samples+int(wavs.Add(1)), 8000)
}

// waitFor polls cond every 50 ms until it holds, failing the test with
// cond's last word after within.
func waitFor(t *testing.T, what string, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (%s)", what, within, detail)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// files lists everything under dir, relative to it, directories with a
// trailing slash.
func files(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	return out
}

// logSize is the length of a log now: where the lines of what follows
// begin.
func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logLines returns the JSON lines of a log, from offset on, for which keep
// is true.
func logLines(path string, offset int64, keep func(map[string]any, string) bool) []string {
	fh, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer fh.Close()
	if _, err := fh.Seek(offset, io.SeekStart); err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e map[string]any
		if json.Unmarshal(sc.Bytes(), &e) == nil && keep(e, sc.Text()) {
			out = append(out, sc.Text())
		}
	}
	return out
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomName() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// process is a function or worker the test runs besides the stack's: same
// binaries, same database and BASE_URL, an uploads folder of the test's
// choosing, its own port and log.
type process struct {
	name, url, log string
	cmd            *exec.Cmd
	done           chan struct{}
}

// startUpload runs an upload function on uploads and waits until it
// answers /healthz; the test's cleanup stops it.
func (f *fixture) startUpload(t *testing.T, name, uploads string) *process {
	t.Helper()
	return f.startProcess(t, name, routes.Upload, "UPLOADS_DIR="+uploads)
}

// startProcess runs the stack's binary bin as name, with env added to the
// common configuration, and waits until it answers /healthz; the test's
// cleanup stops it.
func (f *fixture) startProcess(t *testing.T, name, bin string, env ...string) *process {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{name: name, url: "http://127.0.0.1:" + strconv.Itoa(port), log: filepath.Join(f.root, name+"-"+randomName()+".log")}
	log, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	p.cmd = exec.Command(filepath.Join(f.bin, bin))
	p.cmd.Env = append(append(os.Environ(),
		"DATABASE_URL="+f.dbURL, "BASE_URL="+f.s.BaseURL, "PORT="+strconv.Itoa(port),
		"UPLOADS_SWEEP_INTERVAL="+sweepInterval.String(), "COOKIE_SECURE=false", "MAILERSEND_API_TOKEN=",
		"ADMIN_EMAIL=", "LOG_LEVEL=info", "CLIENT_IP_HEADER=", "ACCEL_REDIRECT_PREFIX=", "INVOKE_API="), env...)
	p.cmd.Stdout, p.cmd.Stderr = log, log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p.done = make(chan struct{})
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
			t.Errorf("%s did not stop within 30 s of SIGTERM", name)
		}
		if t.Failed() {
			t.Logf("the end of %s's log %s:\n%s", name, p.log, tail(p.log, 20))
		}
	})
	waitFor(t, name+" answers /healthz", patience, func() (bool, string) {
		select {
		case <-p.done:
			t.Fatalf("%s exited at start: %s\n%s", name, p.cmd.ProcessState, tail(p.log, 20))
		default:
		}
		a := do("GET", p.url+routes.HealthPath, nil, nil)
		return a.status == http.StatusOK, a.String()
	})
	return p
}

package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is a throwaway PostgreSQL: a data directory of its own (made by
// initdb), a free port on 127.0.0.1, no Unix socket, durability off. Its
// postmaster runs in the foreground as a child of the test process, so it
// dies with it (Pdeathsig) even when the test binary is killed; as root
// every server command runs as the postgres user, as scripts/pg.sh does.
type cluster struct {
	bin, data, logPath string
	port               int
	cred               *syscall.Credential // the postgres user when running as root, else nil

	mu   sync.Mutex
	cmd  *exec.Cmd     // the running postmaster, nil when stopped
	done chan struct{} // closed when cmd has exited
}

// errMissingTool marks a setup failure that a machine without the tool
// would hit: the tests skip on it locally and fail in CI.
var errMissingTool = errors.New("missing tool")

// pgBinDir finds the directory holding initdb, pg_ctl and postgres:
// pg_config's, then Debian's newest /usr/lib/postgresql/*/bin, then PATH.
func pgBinDir() (string, error) {
	ok := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); ok(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if ok(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && ok(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("%w: no PostgreSQL server binaries (initdb, pg_ctl, postgres); install the postgresql package", errMissingTool)
}

// newCluster runs initdb in root/pg and starts the server.
func newCluster(root string) (*cluster, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, data: filepath.Join(root, "pg"), logPath: filepath.Join(root, "postgres.log")}
	if err := os.Mkdir(c.data, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		// initdb refuses root: the cluster belongs to the postgres user,
		// who must be able to traverse root (0755) and own the data.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("%w: running as root needs the postgres system user (install the postgresql package): %v", errMissingTool, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(c.data, uid, gid); err != nil {
			return nil, err
		}
	}
	initdb := c.command("initdb", "-D", c.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if c.port, err = freePort(); err != nil {
		return nil, err
	}
	return c, c.start()
}

// URL is the DATABASE_URL of the cluster's postgres database.
func (c *cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// command prepares one of the server's programs, run as the cluster's owner.
func (c *cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.data
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	return cmd
}

// start runs the postmaster and waits until it accepts connections.
func (c *cluster) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return errors.New("PostgreSQL is already running")
	}
	log, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close() // the child keeps its own copy
	cmd := c.command("postgres", "-D", c.data, "-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group (a Ctrl-C reaches the test, which stops it),
	// and an immediate shutdown should the test process die first.
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	c.cmd, c.done = cmd, done

	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.URL())
		if err == nil {
			conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		select {
		case <-done:
			c.cmd = nil
			return fmt.Errorf("postgres exited at start; the end of %s:\n%s", c.logPath, tail(c.logPath, 20))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres does not accept connections after a minute (last: %v); the end of %s:\n%s", err, c.logPath, tail(c.logPath, 20))
		}
	}
}

// stop runs pg_ctl stop in the given mode (fast, immediate) and waits for
// the postmaster to exit.
func (c *cluster) stop(mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return nil
	}
	out, err := c.command("pg_ctl", "stop", "-D", c.data, "-m", mode, "-w", "-t", "60").CombinedOutput()
	if err != nil {
		err = fmt.Errorf("pg_ctl stop -m %s: %v\n%s", mode, err, out)
	}
	select {
	case <-c.done:
	case <-time.After(time.Minute):
		c.cmd.Process.Kill()
		<-c.done
		err = errors.Join(err, errors.New("the postmaster outlived pg_ctl stop by a minute and was killed"))
	}
	c.cmd = nil
	return err
}

// running reports whether the postmaster runs.
func (c *cluster) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cmd != nil
}

// postmaster is the postmaster's pid, 0 when stopped.
func (c *cluster) postmaster() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// freeze stops (SIGSTOP) the postmaster and then every process it forked:
// backends, checkpointer, WAL writer, ... Stopping the postmaster first
// means it forks no new ones meanwhile; stopping it alone would leave the
// backends of open connections answering. It returns once the kernel shows
// every one of them stopped, and thaws them at the test's cleanup.
func (c *cluster) freeze(t *testing.T) []int {
	t.Helper()
	pm := c.postmaster()
	if pm == 0 {
		t.Fatal("freeze: PostgreSQL is not running")
	}
	if err := syscall.Kill(pm, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP the postmaster %d: %v", pm, err)
	}
	pids := append([]int{pm}, children(pm)...)
	t.Cleanup(func() { c.thaw(pids) })
	for _, pid := range pids[1:] {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("SIGSTOP %d: %v", pid, err)
		}
	}
	if len(pids) < 3 {
		t.Fatalf("the postmaster %d has children %v: want its background processes and backends", pm, pids[1:])
	}
	waitFor(t, "every PostgreSQL process stopped", 10*time.Second, func() (bool, string) {
		var running []string
		for _, pid := range pids {
			// T: stopped; Z: a backend that exited and waits to be reaped by
			// the stopped postmaster; "": gone.
			if st := procState(pid); st != "T" && st != "Z" && st != "" {
				running = append(running, fmt.Sprintf("%d:%s", pid, st))
			}
		}
		return len(running) == 0, "still running: " + strings.Join(running, " ")
	})
	return pids
}

// thaw continues (SIGCONT) the given processes and whatever the
// postmaster has as children now; it may be called more than once.
func (c *cluster) thaw(pids []int) {
	if pm := c.postmaster(); pm != 0 {
		pids = append(pids, children(pm)...)
	}
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGCONT)
	}
}

// close stops the server at once (continuing it first, should a test have
// left it frozen).
func (c *cluster) close() error {
	if pm := c.postmaster(); pm != 0 {
		c.thaw([]int{pm})
	}
	return c.stop("immediate")
}

// children lists the processes whose parent is pid, from /proc.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(child); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, child)
		}
	}
	return kids
}

// procState is the state letter of a process (R, S, D, T, Z, ...), "" when
// it is gone.
func procState(pid int) string {
	if f := statFields(pid); len(f) > 0 {
		return f[0]
	}
	return ""
}

// statFields are the fields of /proc/<pid>/stat after the command name:
// state, ppid, ...
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the name may hold spaces and parentheses
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

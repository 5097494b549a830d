// Package stack runs the production topology on one machine without
// Docker: PostgreSQL, the migrate step, every function of the route table
// as its own process on its own port, and Nginx in front with the
// production config (deploy/nginx) rendered for those ports. `go run
// ./local stack` runs it for a person; end-to-end tests start one and send
// requests to its URL.
//
// Each process writes its output to a log file of its own under the
// stack's directory (LogFile); Nginx writes its error and access logs
// there too.
package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"bandarchive/deploy/nginx"
	"bandarchive/shared/app"
	"bandarchive/shared/limits"
	"bandarchive/shared/routes"
)

// Options configure Start.
type Options struct {
	// Root is the repository root (functions/, web/, scripts/pg.sh); empty
	// means the nearest directory upward from the working directory whose
	// go.mod declares module bandarchive.
	Root string
	// Port is Nginx's port on the loopback interface; 0 picks a free one.
	Port int
	// Env is added to this process's environment for every process the
	// stack starts, as KEY=VALUE (a later value wins): DATABASE_URL,
	// MAILERSEND_API_URL of a fake, UPLOADS_DIR, MAX_UPLOAD_BYTES, ...
	Env []string
	// Stderr receives progress lines; nil discards them.
	Stderr io.Writer
	// Dir holds the logs, Nginx's config and its temporary files, and is
	// left in place by Stop, so the logs can still be read; relative is
	// below Root. Empty makes a temporary directory, which Stop removes
	// (binaries and all: some 140 MB).
	Dir string
	// BuildDir receives the function binaries; empty means Dir/bin.
	BuildDir string
}

// Stack is a running stack. Stop it when done.
type Stack struct {
	// URL is Nginx's address, for clients: http://127.0.0.1:<port>.
	URL string
	// BaseURL is the functions' BASE_URL: the origin of the links they
	// mail and of their Origin check (default http://localhost:<port>).
	BaseURL string
	// Ports maps every function of the route table to its port.
	Ports map[string]int
	// Dir is the stack's directory: logs/, nginx/, bin/.
	Dir string
	// DatabaseURL and UploadsDir are what the functions use.
	DatabaseURL, UploadsDir string
	// Started is how long Start took.
	Started time.Duration

	root     string
	out      io.Writer
	done     <-chan struct{}
	procs    []*process // the functions, then Nginx
	died     chan *process
	stopped  chan struct{} // closed when Stop begins
	stopping atomic.Bool
	tempDir  bool // Stop removes Dir
	stopPG   func() error
	stopOnce sync.Once
	stopErr  error
}

// Defaults and fixed values of the functions' environment.
const (
	clientIPHeader      = "X-Real-IP"
	accelRedirectPrefix = "/_recordings"
	healthTimeout       = 30 * time.Second
)

// Start builds the functions, prepares the database, starts every process
// and returns when Nginx and every function answer. If a step fails, it
// stops what it started and says which step failed. ctx bounds the start
// and ends Wait.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	began := time.Now()
	root, err := findRoot(o.Root)
	if err != nil {
		return nil, err
	}
	s := &Stack{
		root: root, out: o.Stderr, done: ctx.Done(), Ports: map[string]int{},
		died:    make(chan *process, len(routes.Functions())+1),
		stopped: make(chan struct{}),
	}
	if s.out == nil {
		s.out = io.Discard
	}
	if s.Dir, err = stackDir(root, o.Dir); err != nil {
		return nil, err
	}
	s.tempDir = o.Dir == ""
	defer func() {
		if err != nil {
			if serr := s.Stop(); serr != nil {
				err = errors.Join(err, serr)
			}
		}
	}()
	for _, d := range []string{"logs", "nginx/tmp"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	buildDir := o.BuildDir
	if buildDir == "" {
		buildDir = filepath.Join(s.Dir, "bin")
	}
	if buildDir, err = filepath.Abs(buildDir); err != nil {
		return nil, err
	}

	env := merge(os.Environ(), o.Env)
	listen, port, held, err := nginxAddresses(o.Port)
	if err != nil {
		return nil, err
	}
	// Nginx's port stays taken by us until Nginx starts (after the build):
	// another stack starting meanwhile cannot be given it.
	defer closeAll(held)
	s.URL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	maxUpload := int64(limits.DefaultMaxUploadBytes)
	if v := lookup(env, "MAX_UPLOAD_BYTES"); v != "" {
		if maxUpload, err = strconv.ParseInt(v, 10, 64); err != nil || maxUpload <= 0 {
			return nil, fmt.Errorf("MAX_UPLOAD_BYTES must be a positive number of bytes, got %q", v)
		}
	}
	nginxBin, err := nginx.Binary()
	if err != nil {
		return nil, err
	}

	// Building takes longest; the database starts meanwhile.
	s.say("building %d functions into %s", len(routes.Functions()), buildDir)
	step := time.Now()
	built := make(chan error, 1)
	go func() { built <- build(ctx, root, buildDir, env) }()
	dbURL, err := s.database(ctx, env)
	if berr := <-built; berr != nil {
		return nil, errors.Join(berr, err)
	}
	if err != nil {
		return nil, err
	}
	s.DatabaseURL = dbURL
	s.say("built in %s", since(step))

	env = set(env, "DATABASE_URL", dbURL)
	if err := s.migrate(ctx, filepath.Join(buildDir, routes.Functions()[0]), env); err != nil {
		return nil, err
	}

	if s.UploadsDir, err = uploadsDir(root, lookup(env, "UPLOADS_DIR")); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.UploadsDir, 0o750); err != nil {
		return nil, fmt.Errorf("create the uploads directory: %w", err)
	}
	s.BaseURL = lookup(env, "BASE_URL")
	if s.BaseURL == "" {
		s.BaseURL = "http://localhost:" + strconv.Itoa(port)
	}
	env = set(env, "BASE_URL", s.BaseURL)
	env = set(env, "UPLOADS_DIR", s.UploadsDir)
	env = set(env, "CLIENT_IP_HEADER", clientIPHeader)
	env = set(env, "ACCEL_REDIRECT_PREFIX", accelRedirectPrefix)
	if lookup(env, "COOKIE_SECURE") == "" {
		env = set(env, "COOKIE_SECURE", "false")
	}

	if err := s.startFunctions(ctx, buildDir, env); err != nil {
		return nil, err
	}
	if err := s.startNginx(ctx, nginxBin, listen, held, maxUpload); err != nil {
		return nil, err
	}
	s.Started = time.Since(began)
	return s, nil
}

// LogFile is the path of a log in the stack's directory: name is a
// function, "migrate", "nginx-error" or "nginx-access".
func (s *Stack) LogFile(name string) string {
	return filepath.Join(s.Dir, "logs", name+".log")
}

// PIDs returns the process id of every function and of Nginx's master
// process ("nginx").
func (s *Stack) PIDs() map[string]int {
	pids := map[string]int{}
	for _, p := range s.procs {
		pids[p.name] = p.cmd.Process.Pid
	}
	return pids
}

// Wait blocks until a process of the stack exits on its own (then the
// error names it and quotes the end of its log), Start's context ends or
// Stop is called (then it returns nil). Stop the stack afterwards in every
// case.
func (s *Stack) Wait() error {
	select {
	case <-s.done:
		return nil
	case <-s.stopped:
		return nil
	default:
	}
	select {
	case <-s.done:
		return nil
	case <-s.stopped:
		return nil
	case p := <-s.died:
		return p.exitError(s.LogFile(p.name))
	}
}

// Stop stops every process the stack started and waits for each: Nginx
// first (it finishes the requests in flight), then the functions (each
// drains its own work), then the project-local PostgreSQL if the stack
// started it. A process that does not stop in time is killed. A temporary
// Dir is removed. Calling Stop again returns the first call's result.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Stack) stop() error {
	s.stopping.Store(true)
	close(s.stopped)
	var errs []error
	var fns []*process
	for _, p := range s.procs {
		if p.name == "nginx" {
			errs = append(errs, p.stop(syscall.SIGQUIT, 10*time.Second))
		} else {
			fns = append(fns, p)
		}
	}
	results := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, p := range fns {
		wg.Go(func() { results[i] = p.stop(syscall.SIGTERM, 40*time.Second) })
	}
	wg.Wait()
	errs = append(errs, results...)
	if s.stopPG != nil {
		s.say("stopping the project-local PostgreSQL it started")
		errs = append(errs, s.stopPG())
	}
	if s.tempDir {
		errs = append(errs, os.RemoveAll(s.Dir))
	}
	return errors.Join(errs...)
}

func (s *Stack) say(format string, args ...any) {
	fmt.Fprintf(s.out, "stack: "+format+"\n", args...)
}

// database returns DATABASE_URL, or starts the project-local PostgreSQL
// with scripts/pg.sh and returns its URL. A cluster that was not running
// before is stopped again by Stop.
func (s *Stack) database(ctx context.Context, env []string) (string, error) {
	if u := lookup(env, "DATABASE_URL"); u != "" {
		s.say("PostgreSQL: %s (DATABASE_URL)", redact(u))
		return u, nil
	}
	pg := filepath.Join(s.root, "scripts", "pg.sh")
	env = unset(env, "DATABASE_URL")
	wasRunning := exec.CommandContext(ctx, pg, "status").Run() == nil
	cmd := exec.CommandContext(ctx, pg, "start")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.root, env, s.out, s.out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("start the project-local PostgreSQL (scripts/pg.sh start): %w", err)
	}
	if !wasRunning {
		s.stopPG = func() error {
			cmd := exec.Command(pg, "stop")
			cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.root, env, s.out, s.out
			return cmd.Run()
		}
	}
	cmd = exec.CommandContext(ctx, pg, "url")
	cmd.Dir, cmd.Env = s.root, env
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/pg.sh url: %w", err)
	}
	u := strings.TrimSpace(string(out))
	if wasRunning {
		s.say("PostgreSQL: %s (project-local, already running)", redact(u))
	} else {
		s.say("PostgreSQL: %s (project-local, stopped with the stack)", redact(u))
	}
	return u, nil
}

// build compiles every function in one go build, so the packages they
// share are compiled once (and taken from the build cache afterwards).
func build(ctx context.Context, root, dir string, env []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(os.PathSeparator), "./functions/...")
	cmd.Dir, cmd.Env = root, env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./functions/...: %w\n%s", err, out)
	}
	for _, name := range processes() {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("go build made no binary for function %s: %w", name, err)
		}
	}
	return nil
}

// migrate runs the migrate step once, as the Compose stack's one-shot
// service does: a function binary with the argument "migrate".
func (s *Stack) migrate(ctx context.Context, bin string, env []string) error {
	step := time.Now()
	log, err := openLog(s.LogFile("migrate"))
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, bin, "migrate")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.root, env, log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("migrate step (%s migrate): %w\n%s", filepath.Base(bin), err, tail(s.LogFile("migrate")))
	}
	s.say("migrated in %s (log: %s)", since(step), s.LogFile("migrate"))
	return nil
}

// processes are the long-running processes of the stack: every function
// of the route table and the worker.
func processes() []string {
	return append(slices.Clone(routes.Functions()), app.WorkerName)
}

// startFunctions runs each function and the worker on a free port and
// waits until every one answers /healthz. The worker keeps one name in
// the queue across restarts of the stack (it takes back what a kill cut
// off).
func (s *Stack) startFunctions(ctx context.Context, bin string, env []string) error {
	step := time.Now()
	names := processes()
	ports, held, err := freePorts(len(names))
	if err != nil {
		return err
	}
	defer closeAll(held)
	for i, name := range names {
		s.Ports[name] = ports[i]
		held[i].Close() // the process is about to take it
		penv := set(env, "PORT", strconv.Itoa(ports[i]))
		if name == app.WorkerName {
			penv = set(penv, "WORKER_ID", "stack-worker")
		}
		p, err := s.spawn(name, s.LogFile(name), filepath.Join(bin, name), nil, penv)
		if err != nil {
			return err
		}
		s.procs = append(s.procs, p)
	}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, p := range s.procs {
		wg.Go(func() {
			u := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Ports[p.name])) + routes.HealthPath
			errs[i] = waitReady(ctx, p, u, s.LogFile(p.name), nil)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.say("%d functions and the worker answered in %s:", len(names)-1, since(step))
	for _, name := range names {
		s.say("  %-10s on 127.0.0.1:%d, log %s", name, s.Ports[name], s.LogFile(name))
	}
	return nil
}

// startNginx renders the production template for the local ports, checks
// it with nginx -t, runs Nginx in the foreground and waits for it. held
// keeps Nginx's port ours until Nginx takes it.
func (s *Stack) startNginx(ctx context.Context, bin string, listen []string, held []net.Listener, maxUpload int64) error {
	step := time.Now()
	prefix := filepath.Join(s.Dir, "nginx")
	functions := maps.Clone(s.Ports)
	delete(functions, app.WorkerName) // no route leads to the worker
	c := NginxConfig(s.root, prefix, s.UploadsDir, listen, functions, maxUpload)
	c.ErrorLog, c.AccessLog = s.LogFile("nginx-error"), s.LogFile("nginx-access")
	var conf bytes.Buffer
	if err := nginx.Render(&conf, c); err != nil {
		return fmt.Errorf("render the Nginx config: %w", err)
	}
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o644); err != nil {
		return err
	}
	// Nginx appends to its access log itself: start it empty, like the others.
	if err := os.WriteFile(c.AccessLog, nil, 0o644); err != nil {
		return err
	}
	args := []string{"-p", prefix, "-e", c.ErrorLog, "-c", confPath}
	if out, err := exec.CommandContext(ctx, bin, append([]string{"-t", "-q"}, args...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("nginx -t %s: %w\n%s", confPath, err, out)
	}
	closeAll(held) // Nginx is about to take it
	p, err := s.spawn("nginx", s.LogFile("nginx-error"), bin, append(args, "-g", "daemon off;"), nil)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	// Nginx's /healthz carries HSTS: that tells it from any other server
	// that might answer on the port.
	ours := func(r *http.Response) bool { return r.Header.Get("Strict-Transport-Security") != "" }
	if err := waitReady(ctx, p, s.URL+routes.HealthPath, s.LogFile("nginx-error"), ours); err != nil {
		return err
	}
	s.say("nginx answered in %s on %s, config %s", since(step), strings.Join(listen, " and "), confPath)
	s.say("  access log %s, error log %s", s.LogFile("nginx-access"), s.LogFile("nginx-error"))
	return nil
}

// NginxConfig is the production Nginx config (deploy/nginx) as Start
// renders it for functions on this machine: ports maps every function of
// the route table to its port on 127.0.0.1, root is the checkout whose web/
// Nginx serves, and prefix holds the pid file, the logs (error.log,
// access.log; set ErrorLog and AccessLog to move them) and, in prefix/tmp,
// which must exist, the temporary files.
func NginxConfig(root, prefix, uploadsDir string, listen []string, ports map[string]int, maxUpload int64) nginx.Config {
	c := nginx.Config{
		Purpose:        "go run ./local stack",
		Listen:         listen,
		Upstreams:      map[string]string{},
		WebRoot:        filepath.Join(root, "web"),
		UploadsDir:     uploadsDir,
		MaxUploadBytes: maxUpload,
		PIDFile:        filepath.Join(prefix, "nginx.pid"),
		ErrorLog:       filepath.Join(prefix, "error.log"),
		AccessLog:      filepath.Join(prefix, "access.log"),
		TempDir:        filepath.Join(prefix, "tmp"),
	}
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody, who cannot read what the
		// functions (running as root here) store with mode 0600.
		c.User = "root"
	}
	for name, port := range ports {
		c.Upstreams[name] = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	return c
}

// process is one child process and its log.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // how it exited, once done is closed
}

// spawn starts bin with its output appended to logPath. The child gets a
// process group of its own, so a Ctrl-C in the terminal reaches only this
// process, which then stops the children in order.
func (s *Stack) spawn(name, logPath, bin string, args, env []string) (*process, error) {
	log, err := openLog(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.root, env, log, log
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
		if !s.stopping.Load() {
			select {
			case s.died <- p:
			default:
			}
		}
	}()
	return p, nil
}

// stop signals the process and waits up to grace, then kills its group.
func (p *process) stop(sig syscall.Signal, grace time.Duration) error {
	select {
	case <-p.done:
		return nil // it already exited, and Wait said so
	default:
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s: %w", p.name, p.err)
		}
		return nil
	case <-time.After(grace):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s and was killed", p.name, grace)
	}
}

func (p *process) exitError(logPath string) error {
	how := "exit status 0"
	if p.err != nil {
		how = p.err.Error()
	}
	return fmt.Errorf("%s exited (%s); the end of its log %s:\n%s", p.name, how, logPath, tail(logPath))
}

// waitReady polls u until it answers 200 (and ok accepts the answer), the
// process exits, or healthTimeout passes.
func waitReady(ctx context.Context, p *process, u, logPath string, ok func(*http.Response) bool) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(healthTimeout)
	last := "no answer"
	for {
		r, err := client.Get(u)
		if err == nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			if r.StatusCode == http.StatusOK && (ok == nil || ok(r)) {
				return nil
			}
			last = r.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %s within %s (last: %s); the end of its log %s:\n%s",
				p.name, u, healthTimeout, last, logPath, tail(logPath))
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready: %w", p.name, p.exitError(logPath))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// nginxAddresses returns Nginx's listen addresses on loopback (IPv6 too
// when the machine has it, as browsers try localhost there first) and
// their port, picking a free one for 0 and checking that a given one is
// free. The port is held (open listeners, to be closed just before Nginx
// starts) so that nothing else is given it meanwhile.
func nginxAddresses(port int) ([]string, int, []net.Listener, error) {
	p := strconv.Itoa(port)
	listen := []string{net.JoinHostPort("127.0.0.1", p)}
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		l.Close()
		listen = append(listen, net.JoinHostPort("::1", p))
	}
	// A port picked for us may be free on 127.0.0.1 and not on ::1: a few
	// tries find one free on both.
	for try := 0; ; try++ {
		held, err := hold(listen)
		if err == nil {
			_, ps, _ := net.SplitHostPort(held[0].Addr().String())
			port, _ = strconv.Atoi(ps)
			for i := range listen {
				host, _, _ := net.SplitHostPort(listen[i])
				listen[i] = net.JoinHostPort(host, ps)
			}
			return listen, port, held, nil
		}
		if port != 0 {
			return nil, 0, nil, fmt.Errorf("port %s is taken (%v); stop what uses it or choose another port", p, err)
		}
		if try == 5 {
			return nil, 0, nil, fmt.Errorf("find a port free on every loopback address: %w", err)
		}
	}
}

// hold listens on each address; the first may ask for any port (":0"),
// the others then take the port it got.
func hold(addrs []string) ([]net.Listener, error) {
	var held []net.Listener
	port := ""
	for _, a := range addrs {
		host, p, _ := net.SplitHostPort(a)
		if port != "" {
			p = port
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err != nil {
			closeAll(held)
			return nil, err
		}
		_, port, _ = net.SplitHostPort(l.Addr().String())
		held = append(held, l)
	}
	return held, nil
}

// freePorts returns n distinct ports that are free on every interface
// (the functions listen on all of them), each held by an open listener
// until the caller closes it, just before its process takes it.
func freePorts(n int) ([]int, []net.Listener, error) {
	var ports []int
	var held []net.Listener
	for range n {
		l, err := net.Listen("tcp", ":0")
		if err != nil {
			closeAll(held)
			return nil, nil, fmt.Errorf("find a free port: %w", err)
		}
		held = append(held, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, held, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

// findRoot returns dir, or the nearest directory upward from the working
// directory that holds bandarchive's go.mod.
func findRoot(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module bandarchive\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no bandarchive checkout at or above %s", wd)
		}
	}
}

func stackDir(root, dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "bandarchive-stack-")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// uploadsDir makes UPLOADS_DIR absolute (Nginx's alias needs it so),
// defaulting to .data/uploads in the checkout, as make dev does.
func uploadsDir(root, dir string) (string, error) {
	if dir == "" {
		return filepath.Join(root, ".data", "uploads"), nil
	}
	return filepath.Abs(dir)
}

// openLog truncates logPath and opens it for appending: each run starts a
// fresh log, and Nginx, which opens its error log itself, appends to the
// same file.
func openLog(logPath string) (*os.File, error) {
	return os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
}

// tail returns the last lines of a log, for error messages.
func tail(logPath string) string {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

// redact hides a password in a database URL.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return p.Redacted()
}

// merge returns base with extra's KEY=VALUE pairs applied in order.
func merge(base, extra []string) []string {
	env := append([]string(nil), base...)
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		env = set(env, k, v)
	}
	return env
}

// lookup returns the value of key in env, "" when it is not there.
func lookup(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// set returns a copy of env with key set to value, once.
func set(env []string, key, value string) []string {
	return append(unset(env, key), key+"="+value)
}

// unset returns a copy of env without key.
func unset(env []string, key string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	return out
}

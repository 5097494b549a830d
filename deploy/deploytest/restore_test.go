package deploytest

import (
	"bytes"
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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"

	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/db/dbtest"
	"bandarchive/shared/routes"
)

// The platform's commands for a volumes entry of .iac/backup.yml
// (github.com/rednaw/iac): the backup runs, in a one-off container of the
// service with the staging folder mounted at /backup-out,
//
//	sh -c "tar cf /backup-out/<service>_<slug>.tar -C <path> ."
//
// and the restore runs `docker compose cp <dir>/. <service>:<path>/` into
// the running container of the service.
const (
	backupOut     = "/backup-out"
	backupCommand = "tar cf " + backupOut + "/%s_%s.tar -C %s ."
)

// appUID is the functions' user (Dockerfile: APP_UID, USER).
const appUID = 65532

// TestUploadsSurviveBackupAndRestore takes the uploads volume through the
// platform's backup and restore as .iac/docker-compose.yml runs them, with
// Docker's part done by hand: each process runs as its service's user with
// only the capabilities the service keeps (util-linux's setpriv), the
// platform's own tar command writes into a root-owned 0755 staging folder,
// the restore copies the files in owned by root as `docker compose cp`
// does, and then the uploads-admin service's own command, started as the
// stack starts it, must give them back so that the upload and recordings
// functions, as uid 65532, can still play, upload, edit and delete.
//
// It needs root (to be 65532 and root by turns); without root it fails
// when CI is set and is skipped otherwise.
func TestUploadsSurviveBackupAndRestore(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("this test switches between root and uid 65532 and must run as root in CI")
		}
		t.Skip("not root: this test switches between root and uid 65532")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatalf("setpriv (util-linux) runs each process as its service would: %v", err)
	}

	p := mustLoadCompose(t, iacCompose, iacEnv())
	services := allServices(p)
	entry := uploadsBackup(t, p)
	admin := services[entry.Service]
	dbURL := dbtest.NewURL(t)
	t.Parallel()

	work, err := os.MkdirTemp("", "bandarchive-restore-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	// 65532 must reach the binaries and the uploads folders below.
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := buildFunctions(t, work, routes.Upload, routes.Recordings)

	// The migrate step, as the migrate service runs it, makes the admin;
	// the test signs the admin in directly.
	runAs(t, services["migrate"], []string{"DATABASE_URL=" + dbURL, "ADMIN_EMAIL=admin@archive.test", "LOG_LEVEL=warn"},
		filepath.Join(bin, routes.Upload), "migrate")
	session := signIn(t, dbURL)

	// 1. The live volume: as a new volume starts (the image's folder,
	// 65532's, 0755), with a recording the upload function wrote.
	live := newVolume(t, work, "live")
	fn := startFunction(t, services[routes.Upload], bin, routes.Upload, dbURL, live, session)
	wav := apptest.WAV(40_000, 8000)
	rec := fn.upload(t, "gig.wav", wav)
	fn.stop(t)
	original := filepath.Join(live, rec.ID, "original.wav")
	wantOwner(t, original, appUID)

	// 2. The backup: the platform's command, in the service as
	// `docker compose run` starts it, into a staging folder of root's.
	staging := filepath.Join(work, "staging")
	if err := os.Mkdir(staging, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(staging, 0o755) // whatever the umask
	tarName := entry.Service + "_uploads.tar"
	command := fmt.Sprintf(backupCommand, entry.Service, "uploads", entry.Path)
	command = strings.ReplaceAll(command, backupOut, staging) // the -v mount
	command = strings.ReplaceAll(command, entry.Path, live)   // the volume
	runAs(t, admin, nil, "sh", "-c", command)
	archive := filepath.Join(staging, tarName)
	wantOwner(t, archive, 0)

	// 3. The restore, into a fresh volume: restic gives back the tar,
	// the platform unpacks it, and `docker compose cp <dir>/.
	// uploads-admin:<path>/` copies it in, every file and the volume's
	// own folder owned by root, the modes kept.
	unpacked := filepath.Join(work, "unpacked")
	if err := os.Mkdir(unpacked, 0o700); err != nil {
		t.Fatal(err)
	}
	run(t, exec.Command("tar", "xf", archive, "-C", unpacked))
	restored := newVolume(t, work, "restored")
	dockerCp(t, unpacked, restored)
	restoredFile := filepath.Join(restored, rec.ID, "original.wav")
	wantOwner(t, restoredFile, 0)
	if got, err := os.ReadFile(restoredFile); err != nil || !bytes.Equal(got, wav) {
		t.Fatalf("the restored recording differs from the uploaded one (%v)", err)
	}

	// Without uploads-admin the functions could not use the restore:
	// the healthcheck says so, and playback fails.
	if err := healthcheck(t, admin, restored); err == nil {
		t.Fatalf("%s's healthcheck passes on a restore owned by root", entry.Service)
	}
	unfixed := startFunction(t, services[routes.Recordings], bin, routes.Recordings, dbURL, restored, session)
	status, _ := unfixed.get(t, "/api/recordings/"+rec.ID+"/audio", "")
	unfixed.stop(t) // and so its log is complete
	if status != http.StatusInternalServerError || !strings.Contains(unfixed.logs.String(), "permission denied") {
		t.Fatalf("uid %d played a recording restored as root's (%d); the test cannot tell the fix from none:\n%s", appUID, status, unfixed.logs.String())
	}

	// 4. The stack starts: uploads-admin, its own command as its service
	// runs it, and upload and recordings once it is healthy
	// (depends_on: service_healthy).
	keeper := startAdmin(t, admin, restored)
	waitHealthy(t, admin, restored, keeper)
	walkOwners(t, restored, appUID)

	// 5. The functions, as uid 65532, use the restored archive.
	recordings := startFunction(t, services[routes.Recordings], bin, routes.Recordings, dbURL, restored, session)
	upload := startFunction(t, services[routes.Upload], bin, routes.Upload, dbURL, restored, session)

	audio := "/api/recordings/" + rec.ID + "/audio"
	if status, body := recordings.get(t, audio, ""); status != http.StatusOK || !bytes.Equal(body, wav) {
		t.Errorf("GET %s: %d, %d bytes; want 200 and the %d bytes uploaded\n%s", audio, status, len(body), len(wav), recordings.logs.String())
	}
	if status, body := recordings.get(t, audio, "bytes=1000-1999"); status != http.StatusPartialContent || !bytes.Equal(body, wav[1000:2000]) {
		t.Errorf("GET %s, Range bytes=1000-1999: %d, %d bytes; want 206 and those bytes\n%s", audio, status, len(body), recordings.logs.String())
	}

	fresh := upload.upload(t, "after-restore.wav", apptest.WAV(20_000, 8000))
	wantOwner(t, filepath.Join(restored, fresh.ID, "original.wav"), appUID)

	if status, body := recordings.send(t, "PATCH", "/api/recordings/"+rec.ID, `{"title":"Gig, restored"}`); status != http.StatusOK ||
		!strings.Contains(string(body), `"title":"Gig, restored"`) {
		t.Errorf("PATCH the restored recording: %d %s\n%s", status, body, recordings.logs.String())
	}

	for _, id := range []string{rec.ID, fresh.ID} {
		if status, body := recordings.send(t, "DELETE", "/api/recordings/"+id, ""); status != http.StatusNoContent {
			t.Errorf("DELETE recording %s: %d %s\n%s", id, status, body, recordings.logs.String())
		}
		if _, err := os.Lstat(filepath.Join(restored, id)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("recording %s deleted, but its folder is still there (%v)", id, err)
		}
	}
	// Deleted, the files wait in the trash (UPLOADS_TRASH_RETENTION) for
	// the backups taken meanwhile; nothing else is left.
	for _, f := range files(t, restored) {
		if !strings.HasPrefix(f, ".trash/") {
			t.Errorf("after deleting every recording the volume still holds %s", f)
		}
	}

	// 6. A restore into the running stack, as the platform does it: the
	// files are root's again, the volume's folder too, until uploads-admin
	// gives them back, within its interval.
	dockerCp(t, unpacked, restored)
	waitHealthy(t, admin, restored, keeper)
	walkOwners(t, restored, appUID)
	again := upload.upload(t, "after-second-restore.wav", apptest.WAV(10_000, 8000))
	if status, _ := recordings.get(t, "/api/recordings/"+again.ID+"/audio", "bytes=0-99"); status != http.StatusPartialContent {
		t.Errorf("playing a recording uploaded after a restore into the running stack: %d, want 206\n%s", status, recordings.logs.String())
	}

	upload.stop(t)
	recordings.stop(t)
	if err := keeper.stop(t); err != nil {
		t.Errorf("%s did not stop cleanly on SIGTERM: %v\n%s", entry.Service, err, keeper.logs.String())
	}
}

// backupVolume is a volumes entry of .iac/backup.yml.
type backupVolume struct {
	Service string `yaml:"service"`
	Path    string `yaml:"path"`
}

// uploadsBackup is the entry of .iac/backup.yml that backs up the uploads
// volume.
func uploadsBackup(t *testing.T, p *types.Project) backupVolume {
	t.Helper()
	var backup struct {
		Volumes []backupVolume `yaml:"volumes"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, ".iac/backup.yml")), &backup); err != nil {
		t.Fatalf(".iac/backup.yml: %v", err)
	}
	services := allServices(p)
	for _, v := range backup.Volumes {
		for _, m := range services[v.Service].Volumes {
			if m.Source == "uploads" && m.Target == v.Path {
				return v
			}
		}
	}
	t.Fatalf(".iac/backup.yml backs up no service's mount of the uploads volume: %+v", backup.Volumes)
	return backupVolume{}
}

// asService returns a command that runs argv as a process of the compose
// service s: as its user (the image's, 65532, if it names none), with only
// the capabilities it keeps (cap_drop: [ALL] and cap_add), and with
// no-new-privileges when it sets that; through util-linux's setpriv.
// env is its whole environment, besides PATH.
func asService(t *testing.T, s types.ServiceConfig, env []string, argv ...string) *exec.Cmd {
	t.Helper()
	user := s.User
	if user == "" {
		user = appUser
	}
	uid, gid, ok := strings.Cut(user, ":")
	if !ok {
		gid = uid
	}
	bounding := "-all"
	if !containsFold(s.CapDrop, "ALL") {
		t.Fatalf("%s: does not drop every capability; asService cannot tell which it keeps", s.Name)
	}
	for _, c := range s.CapAdd {
		bounding += ",+" + strings.ToLower(strings.TrimPrefix(strings.ToUpper(c), "CAP_"))
	}
	args := []string{"--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--inh-caps=-all", "--bounding-set=" + bounding}
	for _, o := range s.SecurityOpt {
		if o == "no-new-privileges:true" || o == "no-new-privileges" {
			args = append(args, "--no-new-privs")
		}
	}
	cmd := exec.Command("setpriv", append(append(args, "--"), argv...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	cmd.Dir = "/"
	return cmd
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// run runs cmd to completion, failing the test with its output if it fails.
func run(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
}

// runAs runs argv as a process of service s.
func runAs(t *testing.T, s types.ServiceConfig, env []string, argv ...string) {
	t.Helper()
	run(t, asService(t, s, env, argv...))
}

// buildFunctions builds the named functions as the image does (static,
// lambda.norpc) into work/bin.
func buildFunctions(t *testing.T, work string, names ...string) string {
	t.Helper()
	bin := filepath.Join(work, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-o", bin + "/"}
	for _, n := range names {
		args = append(args, "./functions/"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	run(t, cmd)
	return bin
}

// signIn creates a session for the one user, the admin the migrate step
// made, and returns its cookie value.
func signIn(t *testing.T, dbURL string) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	token := auth.NewToken()
	tag, err := conn.Exec(t.Context(), `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
		SELECT gen_random_uuid(), $1, id, now(), now() + interval '1 hour', now() FROM users`, token.Hash())
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("sign the admin in: %v (%d sessions)", err, tag.RowsAffected())
	}
	return token.String()
}

// newVolume makes a folder as a new uploads volume starts: the image's
// /srv/bandarchive/uploads, 65532's, mode 0755.
func newVolume(t *testing.T, work, name string) string {
	t.Helper()
	dir := filepath.Join(work, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(os.Chmod(dir, 0o755), os.Chown(dir, appUID, appUID)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// dockerCp copies the tree src into dst as `docker compose cp src/.
// service:dst/` does: every file and folder, dst's own included, owned by
// root, with its mode; what is there already is overwritten.
func dockerCp(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			os.Remove(target)
			if err := os.WriteFile(target, b, info.Mode().Perm()); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			os.Remove(target)
			if err := os.Symlink(link, target); err != nil {
				return err
			}
			return os.Lchown(target, 0, 0)
		default:
			return fmt.Errorf("%s: unexpected file type %v", p, d.Type())
		}
		return errors.Join(os.Lchown(target, 0, 0), os.Chmod(target, info.Mode().Perm()))
	})
	if err != nil {
		t.Fatalf("copy %s into %s as docker cp does: %v", src, dst, err)
	}
}

// wantOwner fails the test unless path belongs to uid.
func wantOwner(t *testing.T, path string, uid int) {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := int(info.Sys().(*syscall.Stat_t).Uid); got != uid {
		t.Fatalf("%s belongs to uid %d, want %d", path, got, uid)
	}
}

// walkOwners fails the test unless everything in dir, dir included,
// belongs to uid:uid.
func walkOwners(t *testing.T, dir string, uid int) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Errorf("walk %s: %v", p, err)
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		if st := info.Sys().(*syscall.Stat_t); int(st.Uid) != uid || int(st.Gid) != uid {
			t.Errorf("%s belongs to %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, uid)
		}
		return nil
	})
}

// files lists the regular files below dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// scriptFor maps a command of the image to the repository file the image
// has it from (Dockerfile: COPY … scripts/uploads-admin.sh
// /usr/local/bin/uploads-admin, checked by TestDockerfile).
func scriptFor(t *testing.T, command string) string {
	t.Helper()
	if command != uploadsAdminCommand {
		t.Fatalf("no script of the repository is the image's %q", command)
	}
	return filepath.Join(repoRoot(t), uploadsAdminScript)
}

// adminEnv is the uploads-admin service's environment with the volume at
// dir, and a one-second interval so the test need not wait long.
func adminEnv(s types.ServiceConfig, dir string) []string {
	var env []string
	for _, kv := range environ(s) {
		if !strings.HasPrefix(kv, "UPLOADS_DIR=") && !strings.HasPrefix(kv, "UPLOADS_FIX_INTERVAL=") {
			env = append(env, kv)
		}
	}
	return append(env, "UPLOADS_DIR="+dir, "UPLOADS_FIX_INTERVAL=1")
}

// healthcheck runs the service's healthcheck command (CMD form) in it.
func healthcheck(t *testing.T, s types.ServiceConfig, dir string) error {
	t.Helper()
	h := s.HealthCheck
	if h == nil || len(h.Test) < 2 || h.Test[0] != "CMD" {
		t.Fatalf("%s: healthcheck %+v, want the CMD form", s.Name, h)
	}
	argv := append([]string{scriptFor(t, h.Test[1])}, h.Test[2:]...)
	out, err := asService(t, s, adminEnv(s, dir), argv...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// startAdmin starts the service's own command, as its service runs it.
func startAdmin(t *testing.T, s types.ServiceConfig, dir string) *process {
	t.Helper()
	if len(s.Command) == 0 {
		t.Fatalf("%s has no command", s.Name)
	}
	argv := append([]string{scriptFor(t, s.Command[0])}, s.Command[1:]...)
	return start(t, asService(t, s, adminEnv(s, dir), argv...))
}

// waitHealthy waits, as depends_on: service_healthy does, for the
// healthcheck to pass.
func waitHealthy(t *testing.T, s types.ServiceConfig, dir string, p *process) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if p.exited() {
			t.Fatalf("%s exited:\n%s", s.Name, p.logs.String())
		}
		if err = healthcheck(t, s, dir); err == nil {
			return
		}
	}
	t.Fatalf("%s did not become healthy: %v\n%s", s.Name, err, p.logs.String())
}

// process is a started command.
type process struct {
	cmd  *exec.Cmd
	logs *lockedBuffer
	done chan struct{}
	err  error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func start(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if !p.exited() {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, as docker stop does, and waits for the exit.
func (p *process) stop(t *testing.T) error {
	t.Helper()
	if p.exited() {
		return fmt.Errorf("exited before being stopped: %v", p.err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(45 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return errors.New("still running 45 s after SIGTERM")
	}
}

// function is a function binary serving HTTP on the loopback interface.
type function struct {
	*process
	name, base, session string
}

// origin is the public origin the functions are configured with; writes
// must come from it.
const origin = "https://archive.test"

// startFunction runs a function binary as its service does, against the
// database and the uploads folder, and waits until /healthz answers. The
// audio is sent by the function itself (no ACCEL_REDIRECT_PREFIX): it
// reads the file as 65532, as Nginx would in the stack.
func startFunction(t *testing.T, s types.ServiceConfig, bin, name, dbURL, uploads, session string) *function {
	t.Helper()
	port, env := functionEnv(t, dbURL, uploads)
	return waitFunction(t, &function{process: start(t, asService(t, s, env, filepath.Join(bin, name))), name: name,
		base: "http://127.0.0.1:" + port, session: session})
}

// functionEnv is a function's configuration for the test: a free port, the
// database, the uploads folder.
func functionEnv(t *testing.T, dbURL, uploads string) (port string, env []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port = fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	return port, []string{"DATABASE_URL=" + dbURL, "BASE_URL=" + origin, "UPLOADS_DIR=" + uploads, "PORT=" + port, "LOG_LEVEL=warn"}
}

// waitFunction waits until f answers its /healthz.
func waitFunction(t *testing.T, f *function) *function {
	t.Helper()
	name := f.name
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if f.exited() {
			t.Fatalf("%s exited: %v\n%s", name, f.err, f.logs.String())
		}
		if resp, err := http.Get(f.base + routes.HealthPath); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return f
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not healthy after 30 s:\n%s", name, f.logs.String())
		}
	}
}

func (f *function) stop(t *testing.T) {
	t.Helper()
	if err := f.process.stop(t); err != nil {
		t.Errorf("%s: %v\n%s", f.name, err, f.logs.String())
	}
}

// do sends a request as the signed-in admin, from the archive's origin.
func (f *function) do(t *testing.T, r *http.Request) (int, []byte) {
	t.Helper()
	r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: f.session})
	r.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", r.Method, r.URL.Path, err, f.logs.String())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func (f *function) get(t *testing.T, path, rangeHeader string) (int, []byte) {
	t.Helper()
	r, _ := http.NewRequest("GET", f.base+path, nil)
	if rangeHeader != "" {
		r.Header.Set("Range", rangeHeader)
	}
	return f.do(t, r)
}

func (f *function) send(t *testing.T, method, path, jsonBody string) (int, []byte) {
	t.Helper()
	r, _ := http.NewRequest(method, f.base+path, strings.NewReader(jsonBody))
	if jsonBody != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return f.do(t, r)
}

// upload posts a recording to /api/upload, as the UI does without tus.
func (f *function) upload(t *testing.T, filename string, content []byte) apptest.Recording {
	t.Helper()
	body, contentType := apptest.Multipart(t, map[string]string{"title": filename}, filename, content)
	r, _ := http.NewRequest("POST", f.base+"/api/upload", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	status, resp := f.do(t, r)
	if status != http.StatusCreated {
		t.Fatalf("upload %s: %d %s\n%s", filename, status, resp, f.logs.String())
	}
	var rec apptest.Recording
	if err := json.Unmarshal(resp, &rec); err != nil || rec.ID == "" {
		t.Fatalf("upload %s: %v: %s", filename, err, resp)
	}
	return rec
}

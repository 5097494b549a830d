package deploytest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"bandarchive/shared/apptest"
	"bandarchive/shared/auth"
	"bandarchive/shared/db/dbtest"
	"bandarchive/shared/routes"
)

// TestBackupAndRestoreRoundTrip runs make backup's and make restore's
// scripts with their steps on this machine instead of in the stack's
// containers (the same shell scripts, run by sh instead of docker compose
// exec): an archive with recordings and scores is backed up, restored into
// a fresh database and a fresh uploads folder, and then answers the same
// recordings, the same scores and the same bytes.
func TestBackupAndRestoreRoundTrip(t *testing.T) {
	src, dst := newDatabase(t), newDatabase(t)
	work := t.TempDir()
	bin := buildFunctions(t, work, routes.Upload, routes.Recordings, routes.Scores)
	cmd := exec.Command(filepath.Join(bin, routes.Upload), "migrate")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+src, "ADMIN_EMAIL=admin@archive.test", "LOG_LEVEL=warn")
	run(t, cmd)
	session := signIn(t, src)

	live := filepath.Join(work, "live")
	os.Mkdir(live, 0o750)
	up := startPlain(t, bin, routes.Upload, src, live, session)
	first := up.upload(t, "gig 1999.wav", apptest.WAV(30_000, 8000))
	second := up.upload(t, "rehearsal.wav", apptest.WAV(50_000, 8000))
	up.stop(t)
	scores := startPlain(t, bin, routes.Scores, src, live, session)
	if status, body := scores.send(t, "PUT", "/api/scores/"+first.ID, `{"score":4}`); status != http.StatusOK {
		t.Fatalf("score: %d %s", status, body)
	}
	before := archiveState(t, scores, startPlain(t, bin, routes.Recordings, src, live, session))

	out := filepath.Join(work, "backup")
	script := func(name string, dbURL, uploads string, args ...string) {
		t.Helper()
		c := exec.Command(filepath.Join(repoRoot(t), "scripts", name), args...)
		c.Env = append(scriptEnv(t, dbURL), "UPLOADS_PATH="+uploads)
		if b, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
	}
	script("backup.sh", src, live, out)
	for _, f := range []string{"db.dump", "uploads.tar", "SHA256SUMS"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatalf("the backup lacks %s: %v", f, err)
		}
	}

	// The restore refuses a backup that does not match its checksums.
	tampered := filepath.Join(work, "tampered")
	run(t, exec.Command("cp", "-r", out, tampered))
	os.WriteFile(filepath.Join(tampered, "uploads.tar"), []byte("not the archive"), 0o600)
	c := exec.Command(filepath.Join(repoRoot(t), "scripts", "restore.sh"), tampered)
	c.Env = append(scriptEnv(t, dst), "UPLOADS_PATH="+filepath.Join(work, "nowhere"))
	if b, err := c.CombinedOutput(); err == nil || !strings.Contains(string(b), "checksums") {
		t.Fatalf("restore of a tampered backup: %v\n%s", err, b)
	}

	restored := filepath.Join(work, "restored")
	os.Mkdir(restored, 0o750)
	os.WriteFile(filepath.Join(restored, "stale"), []byte("what the volume held before"), 0o600)
	script("restore.sh", dst, restored, out)
	if _, err := os.Stat(filepath.Join(restored, "stale")); !os.IsNotExist(err) {
		t.Errorf("the restore kept what the uploads folder held before: %v", err)
	}
	after := archiveState(t, startPlain(t, bin, routes.Scores, dst, restored, session),
		startPlain(t, bin, routes.Recordings, dst, restored, session))
	if after != before {
		t.Fatalf("after the round trip the archive answers\n%s\nwant\n%s", after, before)
	}
	if !strings.Contains(before, first.ID) || !strings.Contains(before, second.ID) || !strings.Contains(before, `"my_score":4`) {
		t.Fatalf("the state compared lacks the recordings or the score:\n%s", before)
	}
}

// archiveState is what members see of the archive: the ranking with its
// scores, and for each recording its details and the SHA-256 of the bytes
// playback sends.
func archiveState(t *testing.T, scores, recordings *function) string {
	t.Helper()
	defer scores.stop(t)
	defer recordings.stop(t)
	status, body := scores.get(t, "/api/scores", "")
	if status != http.StatusOK {
		t.Fatalf("ranking: %d %s", status, body)
	}
	var page struct {
		Recordings []json.RawMessage `json:"recordings"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("ranking: %v: %s", err, body)
	}
	var lines []string
	for _, raw := range page.Recordings {
		var r apptest.Recording
		json.Unmarshal(raw, &r)
		status, audio := recordings.get(t, "/api/recordings/"+r.ID+"/audio", "")
		sum := sha256.Sum256(audio)
		if status != http.StatusOK || hex.EncodeToString(sum[:]) != r.SHA256 {
			t.Fatalf("playback of %s: %d, %d bytes of SHA-256 %x, want 200 and %s", r.ID, status, len(audio), sum, r.SHA256)
		}
		lines = append(lines, fmt.Sprintf("%s\n  played bytes %x", raw, sum))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// newDatabase creates a database of its own in the test cluster, dropped at
// cleanup, and returns its URL.
func newDatabase(t *testing.T) string {
	t.Helper()
	base := dbtest.URL(t)
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	name := "bandarchive_backup_" + strings.ToLower(auth.NewToken().String()[:10])
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
	if _, err := conn.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

// scriptEnv is the environment the backup scripts find inside the stack's
// containers, here for the database at dbURL: the db service's
// POSTGRES_USER and POSTGRES_DB, and PostgreSQL's client tools on PATH.
// DB_SH and UPLOADS_SH run each step with sh on this machine, the
// archive's stop and start are left to the test.
func scriptEnv(t *testing.T, dbURL string) []string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = u.Host, "5432"
	}
	pass, _ := u.User.Password()
	tools, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	if len(tools) == 0 {
		t.Fatal("pg_dump not found below /usr/lib/postgresql: the test needs Debian's postgresql package")
	}
	return []string{
		"PATH=" + filepath.Dir(tools[len(tools)-1]) + ":" + os.Getenv("PATH"),
		"POSTGRES_USER=" + u.User.Username(), "POSTGRES_DB=" + strings.TrimPrefix(u.Path, "/"),
		"PGHOST=" + host, "PGPORT=" + port, "PGPASSWORD=" + pass,
		"DB_SH=sh -c", "UPLOADS_SH=sh -c", "APP_STOP=true", "APP_START=true", "CORE_START=true",
	}
}

// startPlain runs a function as this process's user (the ownership the
// restore test checks is not the point here).
func startPlain(t *testing.T, bin, name, dbURL, uploads, session string) *function {
	t.Helper()
	port, env := functionEnv(t, dbURL, uploads)
	cmd := exec.Command(filepath.Join(bin, name))
	cmd.Env = append(os.Environ(), env...)
	return waitFunction(t, &function{process: start(t, cmd), name: name, base: "http://127.0.0.1:" + port, session: session})
}

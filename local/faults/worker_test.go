package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"bandarchive/shared/app"
	"bandarchive/shared/apptest"
	"bandarchive/shared/mail/mailersendfake"
)

// pauseStackWorker stops the stack's own worker (SIGSTOP) until the test
// ends, so the jobs of the test go to the workers it runs and kills.
func (f *fixture) pauseStackWorker(t *testing.T) {
	pid := f.s.PIDs()[app.WorkerName]
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
}

// startWorker runs a worker with the queue name id.
func (f *fixture) startWorker(t *testing.T, name, id string, env ...string) *process {
	t.Helper()
	return f.startProcess(t, name, app.WorkerName, append([]string{"UPLOADS_DIR=" + f.uploads, "WORKER_ID=" + id,
		"WORKER_FFMPEG_NICE=0"}, env...)...)
}

// kill SIGKILLs a process and waits for it to be gone.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// TestMailSurvivesAKilledWorker: the worker is SIGKILLed while Mailersend
// holds its delivery of a member's sign-in link. Started again, it takes
// the job back and the mail arrives once Mailersend answers, with a link
// that works.
func TestMailSurvivesAKilledWorker(t *testing.T) {
	f := setup(t)
	f.logTails(t)
	f.pauseStackWorker(t)
	fake := mailersendfake.New(t)
	fake.SetDelay(10 * time.Minute) // holds every request until the test lets go
	mailer := []string{"MAILERSEND_API_URL=" + fake.URL, "MAILERSEND_API_TOKEN=" + fake.Token, "MAIL_FROM=archive@faults.test"}
	id := "faults-mail-" + randomName()
	victim := f.startWorker(t, "worker-mail-victim", id, mailer...)

	if a := do("POST", f.s.URL+"/auth/send-link", map[string]string{"Content-Type": "application/json", "Origin": f.s.BaseURL},
		[]byte(`{"email":"ann@faults.test"}`)); a.status != 202 {
		t.Fatalf("send-link: %s", a)
	}
	waitFor(t, "the delivery held by Mailersend", patience, func() (bool, string) {
		return fake.Attempts() >= 1, fmt.Sprint(fake.Attempts(), " attempts")
	})
	victim.kill(t)
	fake.SetDelay(0)

	heir := f.startWorker(t, "worker-mail-heir", id, mailer...)
	sent := fake.WaitSent(t, 1, patience)
	link := mailersendfake.Link(t, sent[0], f.s.BaseURL+"/auth/verify/")
	if a := do("GET", strings.Replace(link, f.s.BaseURL, f.s.URL, 1), nil, nil); a.status != 200 {
		t.Fatalf("the delivered link: %s, want 200 (usable)", a)
	}
	if n := len(fake.Sent()); n != 1 || sent[0].To[0].Email != "ann@faults.test" {
		t.Fatalf("%d mails sent (first to %s), want one to ann@faults.test", n, sent[0].To[0].Email)
	}
	if !strings.Contains(readFile(t, heir.log), "took back jobs") {
		t.Errorf("the restarted worker did not say it took the job back:\n%s", tail(heir.log, 20))
	}
}

// TestCopySurvivesAKilledWorker: the worker is SIGKILLed while ffmpeg
// writes a listening copy. Until it is whole, the copy is not served (404
// not_ready, never a half-written file); started again, the worker makes
// it, with the original's length.
func TestCopySurvivesAKilledWorker(t *testing.T) {
	f := setup(t)
	f.logTails(t)
	ff := apptest.FFmpeg(t)
	f.pauseStackWorker(t)
	id := "faults-media-" + randomName()
	victim := f.startWorker(t, "worker-media-victim", id)

	// Four minutes of noise at 44.1 kHz stereo (42 MB): long enough to
	// catch ffmpeg writing.
	src := filepath.Join(t.TempDir(), "long.wav")
	gen := exec.Command(ff.FFmpeg, "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=240:a=0.1:seed="+strconv.Itoa(int(time.Now().UnixNano()%1e6)),
		"-ar", "44100", "-ac", "2", src)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("make the WAV: %v\n%s", err, out)
	}
	wav, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	up := f.upload(t, f.s.URL, f.member, "killed mid-copy "+randomName(), wav)
	if up.status != 201 {
		t.Fatalf("upload: %s", up)
	}
	var rec struct{ ID string }
	json.Unmarshal(up.body, &rec)
	part := filepath.Join(f.uploads, rec.ID, "listen.m4a.part")
	waitFor(t, "ffmpeg writing the copy", patience, func() (bool, string) {
		st, err := os.Stat(part)
		return err == nil && st.Size() > 0, fmt.Sprint(err)
	})
	victim.kill(t)

	listen := f.s.URL + "/api/recordings/" + rec.ID + "/listen"
	if a := do("GET", listen, map[string]string{"Cookie": f.member.cookie}, nil); a.status != 404 || a.code() != "not_ready" {
		t.Fatalf("the copy while cut off: %s, want 404 not_ready", a)
	}
	if _, err := os.Stat(filepath.Join(f.uploads, rec.ID, "listen.m4a")); !os.IsNotExist(err) {
		t.Fatalf("a copy exists after the kill: %v", err)
	}

	f.startWorker(t, "worker-media-heir", id)
	waitFor(t, "the copy made by the restarted worker", 3*patience, func() (bool, string) {
		var state string
		err := f.sql(func(ctx context.Context, c *pgx.Conn) error {
			return c.QueryRow(ctx, `SELECT processing_state FROM recordings WHERE id = $1`, rec.ID).Scan(&state)
		})
		return state == "ready", fmt.Sprint(state, err)
	})
	a := do("GET", listen, map[string]string{"Cookie": f.member.cookie}, nil)
	if a.status != 200 || a.header.Get("Content-Type") != "audio/mp4" {
		t.Fatalf("the copy: %s %s, want 200 audio/mp4", a, a.header.Get("Content-Type"))
	}
	copyPath := filepath.Join(f.uploads, rec.ID, "listen.m4a")
	if d, err := ff.Duration(context.Background(), copyPath); err != nil || d < 239.8 || d > 240.2 {
		t.Fatalf("the copy lasts %.2f s (%v), want 240 ± 0.2", d, err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

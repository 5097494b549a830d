package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDeployOneService: make deploy's script deploys exactly the services
// the compose file gives an image variable of their own, prints its steps
// with DRY_RUN and changes nothing then, and otherwise keeps the image in
// .env, where the next `docker compose up` (here: compose-go loading the
// file with it) gives it to that service alone.
func TestDeployOneService(t *testing.T) {
	script := filepath.Join(repoRoot(t), "scripts", "deploy.sh")
	text := readFile(t, "scripts/deploy.sh")
	m := regexp.MustCompile(`(?m)^services=\(([^)]*)\)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("scripts/deploy.sh: no services=(...) line")
	}
	want := append(running(), "nginx")
	got := strings.Fields(m[1])
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("deploy.sh deploys %v, want %v (each with its <NAME>_IMAGE in the compose files)", got, want)
	}

	dir := t.TempDir()
	env := filepath.Join(dir, ".env")
	if err := os.WriteFile(env, []byte("POSTGRES_PASSWORD=secret\nUPLOAD_IMAGE=registry.example.org/bandarchive:old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deploy := func(extra []string, args ...string) (string, error) {
		c := exec.Command(script, args...)
		c.Dir = dir
		c.Env = append(append(os.Environ(), "ENV_FILE="+env, "DOCKER=true"), extra...)
		out, err := c.CombinedOutput()
		return string(out), err
	}

	out, err := deploy([]string{"DRY_RUN=1"}, "upload", "registry.example.org/bandarchive:new")
	wantOut := "would set UPLOAD_IMAGE=registry.example.org/bandarchive:new in " + env + "\n" +
		"would run: IMAGE=registry.example.org/bandarchive:new true compose run --rm --no-deps migrate\n" +
		"would run: IMAGE=registry.example.org/bandarchive:new true compose up -d --no-deps --pull missing --wait upload\n"
	if err != nil || out != wantOut {
		t.Fatalf("dry run: %v\n%s\nwant\n%s", err, out, wantOut)
	}
	if b, _ := os.ReadFile(env); !strings.Contains(string(b), "bandarchive:old") {
		t.Fatalf("a dry run changed .env:\n%s", b)
	}

	if out, err := deploy(nil, "scores", "registry"); err != nil {
		t.Fatalf("deploy scores: %v\n%s", err, out)
	}
	if out, err := deploy(nil, "upload", "registry.example.org/bandarchive:new"); err != nil {
		t.Fatalf("deploy upload: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(env)
	after := string(b)
	if strings.Count(after, "UPLOAD_IMAGE=") != 1 || !strings.Contains(after, "UPLOAD_IMAGE=registry.example.org/bandarchive:new\n") ||
		!strings.Contains(after, "POSTGRES_PASSWORD=secret\n") || !strings.Contains(after, "SCORES_IMAGE=registry\n") {
		t.Fatalf(".env after two deploys:\n%s", after)
	}
	vars := map[string]string{}
	for line := range strings.Lines(after) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		vars[k] = v
	}
	p := mustLoadCompose(t, rootCompose, vars)
	for name, want := range map[string]string{
		"upload": "registry.example.org/bandarchive:new", "scores": "registry", "recordings": "bandarchive:latest",
		"worker": "bandarchive:latest", "migrate": "bandarchive:latest",
	} {
		if got := p.Services[name].Image; got != want {
			t.Errorf("the next up runs %s from %q, want %q", name, got, want)
		}
	}

	for _, bad := range [][]string{{"db", "x"}, {"uploads-admin", "x"}, {"upload"}, {"upload", "two words"}} {
		if out, err := deploy(nil, bad...); err == nil || !strings.Contains(out, "usage") && !strings.Contains(out, "not an image") {
			t.Errorf("deploy %q: %v, want a refusal\n%s", bad, err, out)
		}
	}
}

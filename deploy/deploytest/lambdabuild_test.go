package deploytest

import (
	"debug/buildinfo"
	"debug/elf"
	"os/exec"
	"path/filepath"
	"testing"

	"bandarchive/shared/routes"
)

// TestLambdaBootstrapBuilds builds one function exactly as `sam build` does
// (deploy/sam.mk's target) and checks the result is what the
// provided.al2023 runtime on arm64 runs: a static aarch64 ELF executable,
// built with lambda.norpc and without cgo.
func TestLambdaBootstrapBuilds(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	makePath, err := exec.LookPath("make")
	if err != nil {
		t.Fatalf("make is needed for the SAM build recipe: %v", err)
	}
	id := logicalID(routes.Session)
	artifacts := t.TempDir()
	cmd := exec.Command(makePath, "--no-print-directory", "-f", "deploy/sam.mk", "build-"+id, "ARTIFACTS_DIR="+artifacts)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-%s: %v\n%s", id, err, out)
	}
	bootstrap := filepath.Join(artifacts, "bootstrap")

	f, err := elf.Open(bootstrap)
	if err != nil {
		t.Fatalf("the bootstrap is not an ELF file: %v", err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
		t.Errorf("bootstrap is %v %v %v, want ELFCLASS64 EM_AARCH64 ET_EXEC", f.Class, f.Machine, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("bootstrap is dynamically linked (%v); Lambda's provided.al2023 wants a static binary", p.Type)
		}
	}

	info, err := buildinfo.ReadFile(bootstrap)
	if err != nil {
		t.Fatalf("read the bootstrap's build info: %v", err)
	}
	if info.Path != "bandarchive/functions/"+routes.Session {
		t.Errorf("bootstrap is %s, want bandarchive/functions/%s", info.Path, routes.Session)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for k, want := range map[string]string{"GOOS": "linux", "GOARCH": "arm64", "CGO_ENABLED": "0", "-tags": "lambda.norpc", "-trimpath": "true"} {
		if settings[k] != want {
			t.Errorf("bootstrap built with %s=%q, want %q", k, settings[k], want)
		}
	}
}

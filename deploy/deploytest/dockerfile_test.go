package deploytest

import (
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dockerfile is at the root: the IAC platform's CI builds ./Dockerfile with
// the context . (.github/workflows/build-and-push.yml).
const dockerfile = "Dockerfile"

type instruction struct {
	cmd  string // upper case
	args string
}

type stage struct {
	base, name string
	platform   string // FROM --platform=…, unexpanded
	body       []instruction
}

// find returns the instructions of a stage with the given command.
func (s stage) find(cmd string) []instruction {
	var out []instruction
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// parseDockerfile splits a Dockerfile into its global ARG defaults and its
// stages, joining continued lines and dropping comments, as docker build
// reads it. FROM images are expanded with the global ARGs.
func parseDockerfile(t *testing.T, text string) (map[string]string, []stage) {
	t.Helper()
	var lines []string
	var cur strings.Builder
	for raw := range strings.Lines(text) {
		line := strings.TrimRight(raw, "\r\n")
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		if s := strings.TrimSpace(cur.String()); s != "" {
			lines = append(lines, s)
		}
		cur.Reset()
	}

	args := map[string]string{}
	expand := func(s string) string {
		return os.Expand(s, func(k string) string { return args[k] })
	}
	var stages []stage
	for _, l := range lines {
		cmd, rest, _ := strings.Cut(l, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(rest)}
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			var platform string
			f = slices.DeleteFunc(f, func(s string) bool {
				p, ok := strings.CutPrefix(s, "--platform=")
				if ok {
					platform = p
				}
				return ok
			})
			st := stage{base: expand(f[0]), platform: platform}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
		case len(stages) == 0 && in.cmd == "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		case len(stages) == 0:
			t.Fatalf("%s: %s before the first FROM", dockerfile, in.cmd)
		default:
			stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
		}
	}
	return args, stages
}

// webRoot is where Nginx looks for web/ (deploy/nginx/nginx.conf's root).
func webRoot(t *testing.T) string {
	t.Helper()
	roots := directive(readFile(t, nginxConf), "root")
	if len(roots) != 1 {
		t.Fatalf("%s: want one root (web/), have %v", nginxConf, roots)
	}
	return strings.TrimSuffix(roots[0], "/")
}

// argDefault is the default of an ARG declared in a stage.
func argDefault(s stage, name string) string {
	for _, in := range s.find("ARG") {
		if k, v, ok := strings.Cut(in.args, "="); ok && k == name {
			return v
		}
	}
	return ""
}

func TestDockerfile(t *testing.T) {
	root := repoRoot(t)
	_, stages := parseDockerfile(t, readFile(t, dockerfile))
	if len(stages) < 2 {
		t.Fatalf("%s: want a build stage and a runtime stage, have %d stages", dockerfile, len(stages))
	}
	build, runtime := stages[0], stages[len(stages)-1]

	// Build: every function, static, with lambda.norpc.
	if !regexp.MustCompile(`^golang:1\.26([.-]|$)`).MatchString(build.base) {
		t.Errorf("build stage image = %q, want golang:1.26…", build.base)
	}
	// Cross-compiled: the build stage runs on the builder's platform and
	// builds for the target's, so the platform's two-platform build
	// (linux/amd64, linux/arm64) emulates nothing; the runtime stage is the
	// target platform's own.
	if build.platform != "$BUILDPLATFORM" {
		t.Errorf("build stage: FROM --platform=%q, want --platform=$BUILDPLATFORM (cross-compile rather than emulate)", build.platform)
	}
	if runtime.platform != "" {
		t.Errorf("runtime stage: FROM --platform=%s; it must be the target platform's image", runtime.platform)
	}
	if argDefault(build, "TARGETARCH") != "" || !slices.ContainsFunc(build.find("ARG"), func(in instruction) bool { return in.args == "TARGETARCH" }) {
		t.Errorf("the build stage must declare ARG TARGETARCH without a default (BuildKit sets it per platform)")
	}
	var goBuild string
	for _, in := range build.find("RUN") {
		if strings.Contains(in.args, "go build") {
			goBuild = in.args
		}
	}
	if goBuild == "" {
		t.Fatalf("%s: the build stage runs no go build", dockerfile)
	}
	for _, part := range []string{"GOARCH=$TARGETARCH", "GOOS=$TARGETOS", "-tags lambda.norpc", "-trimpath", "-ldflags='-s -w'", "-o /out/ ./functions/..."} {
		if !strings.Contains(goBuild, part) {
			t.Errorf("go build lacks %q: %s", part, goBuild)
		}
	}
	cgoOff := strings.Contains(goBuild, "CGO_ENABLED=0")
	for _, in := range build.find("ENV") {
		cgoOff = cgoOff || regexp.MustCompile(`(^|\s)CGO_ENABLED=0(\s|$)`).MatchString(in.args)
	}
	if !cgoOff {
		t.Errorf("the build stage must set CGO_ENABLED=0 (static binaries)")
	}

	// ./functions/... builds every directory under functions/: those must be
	// exactly the route table's functions and the two beside it (pages and
	// migrate, whose binaries ship too), each a main package.
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if want := slices.Sorted(slices.Values(allFunctions())); !slices.Equal(dirs, want) {
		t.Errorf("functions/ holds %v, want %v", dirs, want)
	}
	for _, name := range allFunctions() {
		if _, err := os.Stat(filepath.Join(root, "functions", name, "main.go")); err != nil {
			t.Errorf("functions/%s has no main.go: %v", name, err)
		}
	}
	// The build stage sees only what it copies: every package of this
	// module that the functions import (web/, for the pages function's
	// embedded copy, say) must be among its COPY sources.
	list := exec.Command("go", "list", "-deps", "-f", `{{with .Module}}{{if .Main}}{{$.Dir}}{{end}}{{end}}`, "./functions/...")
	list.Dir = root
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list -deps ./functions/...: %v", err)
	}
	var sources []string
	for _, in := range build.find("COPY") {
		f := strings.Fields(in.args)
		sources = append(sources, f[:len(f)-1]...)
	}
	for dir := range strings.FieldsSeq(string(out)) {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		if !slices.ContainsFunc(sources, func(src string) bool { return within(rel, src) }) {
			t.Errorf("the functions import %s, which the build stage of %s does not copy (COPY %s/ %s/)", rel, dockerfile, rel, rel)
		}
	}

	// Runtime: Nginx and the binaries, as a user other than root.
	if !regexp.MustCompile(`^nginx:[0-9.]+-alpine$`).MatchString(runtime.base) {
		t.Errorf("runtime image = %q, want nginx:<version>-alpine (the healthchecks use its wget, the backup its tar)", runtime.base)
	}
	users := runtime.find("USER")
	if len(users) == 0 {
		t.Fatalf("the runtime stage sets no USER: it would run as root")
	}
	user := users[len(users)-1].args
	if uid, _, _ := strings.Cut(user, ":"); uid == "root" || uid == "0" {
		t.Errorf("runtime USER = %s; run as an unprivileged user", user)
	} else if appUID := argDefault(runtime, "APP_UID"); uid != appUID {
		t.Errorf("runtime USER = %s, but /srv/bandarchive/uploads is given to APP_UID %s", user, appUID)
	}
	copies := map[string]string{} // source → destination
	for _, in := range runtime.find("COPY") {
		f := strings.Fields(in.args)
		copies[strings.Join(f[:len(f)-1], " ")] = f[len(f)-1]
	}
	for src, dst := range map[string]string{
		"--from=" + build.name + " /out/":    "/usr/local/bin/",
		"deploy/nginx/nginx.conf":            "/etc/nginx/nginx.conf",
		"web/":                               webRoot(t) + "/",
		"--chmod=0755 " + uploadsAdminScript: "/usr/local/bin/" + uploadsAdminCommand,
	} {
		if copies[src] != dst {
			t.Errorf("runtime stage: want COPY %s %s", src, dst)
		}
	}
	var setup string
	for _, in := range runtime.find("RUN") {
		setup += in.args + "\n"
	}
	if !strings.Contains(setup, uploadsPath) || !strings.Contains(setup, `chown -R "$APP_UID:$APP_UID" `+uploadsPath) {
		t.Errorf("the runtime stage must create %s owned by the app user, so a new uploads volume starts writable", uploadsPath)
	}
	for cmd, want := range map[string]string{"EXPOSE": "8080", "STOPSIGNAL": "SIGTERM", "ENTRYPOINT": "[]"} {
		if ins := runtime.find(cmd); len(ins) == 0 || ins[len(ins)-1].args != want {
			t.Errorf("runtime stage: want %s %s", cmd, want)
		}
	}
	if cmds := runtime.find("CMD"); len(cmds) == 0 {
		t.Errorf("runtime stage: no CMD")
	} else {
		var argv []string
		if err := json.Unmarshal([]byte(cmds[len(cmds)-1].args), &argv); err != nil || len(argv) == 0 || !isFunction(argv[0]) {
			t.Errorf("runtime CMD = %s, want the exec form naming a function", cmds[len(cmds)-1].args)
		}
	}

	// The one Dockerfile: a second copy under deploy/ would be edited by
	// someone and built by nobody.
	if _, err := os.Stat(filepath.Join(root, "deploy", "Dockerfile")); err == nil {
		t.Errorf("deploy/Dockerfile exists beside %s; the platform builds only ./Dockerfile", dockerfile)
	}

	// Every file the image copies from the repository exists, and is in
	// the build context: .dockerignore's plain paths (its patterns only
	// drop tests) do not cover it.
	var ignoredPaths []string
	for line := range strings.Lines(readFile(t, ".dockerignore")) {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") && !strings.ContainsAny(l, "*?[!") {
			ignoredPaths = append(ignoredPaths, l)
		}
	}
	for _, st := range stages {
		for _, in := range st.find("COPY") {
			f := strings.Fields(in.args)
			if strings.HasPrefix(f[0], "--from=") {
				continue
			}
			for _, src := range f[:len(f)-1] {
				if strings.HasPrefix(src, "--") {
					continue
				}
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("%s copies %s, which is missing: %v", dockerfile, src, err)
				}
				for _, ignored := range ignoredPaths {
					if within(src, ignored) {
						t.Errorf("%s copies %s, which .dockerignore leaves out of the context (%s)", dockerfile, src, ignored)
					}
				}
			}
		}
	}
}

// TestDockerfileBuildsForBothPlatforms runs the build stage's go build as
// the platform's two-platform build runs it (TARGETOS linux, TARGETARCH
// amd64 and arm64, the stage's ENV), from the repository as the stage
// copies it, and checks that every function comes out as a static binary
// for that machine.
func TestDockerfileBuildsForBothPlatforms(t *testing.T) {
	root := repoRoot(t)
	_, stages := parseDockerfile(t, readFile(t, dockerfile))
	build := stages[0]
	var command string
	for _, in := range build.find("RUN") {
		if strings.Contains(in.args, "go build") {
			command = in.args
		}
	}
	// The cache mounts are BuildKit's; what runs is the rest.
	command = regexp.MustCompile(`--mount=\S+\s*`).ReplaceAllString(command, "")
	env := os.Environ()
	for _, in := range build.find("ENV") {
		env = append(env, strings.Fields(in.args)...)
	}
	for _, arch := range []struct {
		name    string
		machine elf.Machine
	}{{"amd64", elf.EM_X86_64}, {"arm64", elf.EM_AARCH64}} {
		t.Run(arch.name, func(t *testing.T) {
			out := t.TempDir()
			cmd := exec.Command("sh", "-c", strings.ReplaceAll(command, "/out/", out+"/"))
			cmd.Dir = root
			cmd.Env = append(slices.Clone(env), "TARGETOS=linux", "TARGETARCH="+arch.name)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", command, err, b)
			}
			for _, name := range allFunctions() {
				f, err := elf.Open(filepath.Join(out, name))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				static := !slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
				if f.Machine != arch.machine || !static {
					t.Errorf("%s: machine %v, static %v; want %v, static", name, f.Machine, static, arch.machine)
				}
				f.Close()
			}
		})
	}
}

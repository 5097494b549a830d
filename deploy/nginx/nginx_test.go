package nginx

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"bandarchive/shared/httpx"
	"bandarchive/shared/routes"
)

var update = flag.Bool("update", false, "rewrite nginx.conf from the template")

// TestProductionConfigIsRendered keeps the committed nginx.conf, which the
// Docker image uses, equal to the template rendered from the route table.
func TestProductionConfigIsRendered(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, Production()); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("nginx.conf", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, b.Bytes()) {
		t.Fatalf("deploy/nginx/nginx.conf is not the rendered template; run `go test ./deploy/nginx -update` and commit it.\n%s",
			firstDifference(string(committed), b.String()))
	}
}

func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n  committed: " + gl + "\n  rendered:  " + wl
		}
	}
	return ""
}

// local is a config for this machine in dir, as `local stack` renders it.
func local(dir string) Config {
	up := map[string]string{}
	for i, name := range routes.Functions() {
		up[name] = "127.0.0.1:" + strconv.Itoa(19100+i)
	}
	c := Config{
		Purpose:        "a test",
		Listen:         []string{"127.0.0.1:19099"},
		Upstreams:      up,
		WebRoot:        filepath.Join(dir, "web"),
		UploadsDir:     filepath.Join(dir, "uploads"),
		MaxUploadBytes: 1000,
		PIDFile:        filepath.Join(dir, "nginx.pid"),
		ErrorLog:       filepath.Join(dir, "error.log"),
		AccessLog:      filepath.Join(dir, "access.log"),
		TempDir:        filepath.Join(dir, "tmp"),
		TrustedProxies: []string{"10.0.0.0/8"},
	}
	if os.Geteuid() == 0 {
		c.User = "root"
	}
	return c
}

// TestNginxAcceptsTheConfig runs `nginx -t` on a rendering: the committed production file names
// hosts that only Docker's DNS resolves, so the check runs on the same
// template with local addresses.
func TestNginxAcceptsTheConfig(t *testing.T) {
	bin := requireNginx(t)
	dir := t.TempDir()
	for _, d := range []string{"web", "uploads", "tmp"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	for name, c := range map[string]Config{"local": local(dir), "stderr logs": func() Config {
		c := local(dir)
		c.ErrorLog, c.AccessLog, c.TrustedProxies, c.User = "stderr", "/dev/stdout", nil, ""
		return c
	}()} {
		t.Run(name, func(t *testing.T) {
			conf := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".conf")
			var b bytes.Buffer
			if err := Render(&b, c); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(conf, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := check(t.Context(), bin, dir, conf); err != nil {
				t.Fatalf("nginx -t: %v\n%s", err, out)
			}
		})
	}
}

// check runs nginx -t on conf with prefix.
func check(ctx context.Context, bin, prefix, conf string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, bin, "-t", "-q", "-p", prefix, "-e", filepath.Join(prefix, "check-error.log"), "-c", conf).CombinedOutput()
}

func requireNginx(t *testing.T) string {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return bin
}

func TestLocationsFollowTheRouteTable(t *testing.T) {
	locs, err := locations(routes.All())
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]location{}
	for _, l := range locs {
		byPath[l.Path] = l
	}
	tests := []struct {
		path, match, function string
		secret, upload        bool
	}{
		{"/auth/send-link", "= /auth/send-link", routes.SendLink, false, false},
		{"/auth/verify/{token}", `~ "^/auth/verify/[^/]+$"`, routes.Verify, true, false},
		{"/auth/join/{token}", `~ "^/auth/join/[^/]+$"`, routes.Invites, true, false},
		{"/api/upload", "= /api/upload", routes.Upload, false, true},
		{"/api/recordings/{id}/audio", `~ "^/api/recordings/[^/]+/audio$"`, routes.Recordings, false, false},
		{"/api/scores/{recording_id}", `~ "^/api/scores/[^/]+$"`, routes.Scores, false, false},
	}
	for _, tt := range tests {
		l, ok := byPath[tt.path]
		if !ok {
			t.Errorf("%s: no location", tt.path)
			continue
		}
		if l.Match != tt.match || l.Function != tt.function || l.Secret != tt.secret || l.Upload != tt.upload {
			t.Errorf("%s: got %+v, want match %s, function %s, secret %v, upload %v", tt.path, l, tt.match, tt.function, tt.secret, tt.upload)
		}
	}
	paths := map[string]bool{}
	for _, r := range routes.All() {
		paths[r.Path] = true
	}
	if len(locs) != len(paths) {
		t.Errorf("%d locations for %d paths of the table", len(locs), len(paths))
	}
	if l := byPath["/auth/verify/{token}"]; l.Methods != "GET, POST" {
		t.Errorf("verify methods: got %q, want %q", l.Methods, "GET, POST")
	}
}

func TestLocationsRefuseWhatNginxCannotRoute(t *testing.T) {
	for name, table := range map[string][]routes.Route{
		"one path, two functions": {{Function: "a", Method: "GET", Path: "/x"}, {Function: "b", Method: "POST", Path: "/x"}},
		"rest wildcard":           {{Function: "a", Method: "GET", Path: "/x/{rest...}"}},
		"quote in a path":         {{Function: "a", Method: "GET", Path: `/x"y`}},
	} {
		if _, err := locations(table); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRenderRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	for name, edit := range map[string]func(*Config){
		"missing upstream":  func(c *Config) { delete(c.Upstreams, routes.Verify) },
		"unknown function":  func(c *Config) { c.Upstreams["nope"] = "127.0.0.1:1" },
		"dollar in a path":  func(c *Config) { c.WebRoot = "/srv/$web" },
		"no upload limit":   func(c *Config) { c.MaxUploadBytes = 0 },
		"bad listen":        func(c *Config) { c.Listen = []string{"localhost"} },
		"bad trusted proxy": func(c *Config) { c.TrustedProxies = []string{"traefik"} },
	} {
		c := local(dir)
		edit(&c)
		if err := Render(&bytes.Buffer{}, c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestRedactionAgreesWithTheFunctions checks the access log's redaction
// against shared/httpx's, which the functions' logs use, on every path of
// the table and the pages.
func TestRedactionAgreesWithTheFunctions(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, Production()); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`"~\*\^\(\?<redact_head>([^"]*)" "\$\{redact_head\}REDACTED\$\{redact_tail\}"`).FindStringSubmatch(b.String())
	if m == nil {
		t.Fatal("no redaction map in the config")
	}
	// PCRE's named groups and Go's differ only in spelling.
	re := regexp.MustCompile("(?i)^(" + strings.ReplaceAll(m[1], "(?<", "(?P<"))
	redact := func(uri string) string {
		if g := re.FindStringSubmatch(uri); g != nil {
			return g[1] + "REDACTED" + g[re.SubexpIndex("redact_tail")]
		}
		path, _, _ := strings.Cut(uri, "?")
		return path
	}
	var paths []string
	for _, r := range routes.All() {
		paths = append(paths, Sample(r.Path))
	}
	for _, p := range routes.Pages() {
		paths = append(paths, Sample(p.Path))
	}
	paths = append(paths, "/join/sample/more", "/auth/verify/sample?x=1")
	for _, p := range paths {
		want, _, _ := strings.Cut(p, "?")
		want = httpx.RedactPath(want)
		if got := redact(p); got != want {
			t.Errorf("%s: Nginx logs %s, the functions %s", p, got, want)
		}
	}
}

func TestMatchTurnsServeMuxPathsIntoLocations(t *testing.T) {
	for _, tt := range []struct{ path, want string }{
		{"/{$}", "= /"},
		{"/login", "= /login"},
		{"/admin/{$}", "= /admin/"},
		{"/join/{token}", `~ "^/join/[^/]+$"`},
		{"/api/recordings/{id}/audio", `~ "^/api/recordings/[^/]+/audio$"`},
		{"/a.b/{id}/{$}", `~ "^/a\.b/[^/]+/$"`},
	} {
		if got, err := match(tt.path); err != nil || got != tt.want {
			t.Errorf("match(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
	for _, p := range []string{"login", "/x/{rest...}", "/x y", "/x//y"} {
		if got, err := match(p); err == nil {
			t.Errorf("match(%q) = %q, want an error", p, got)
		}
	}
}

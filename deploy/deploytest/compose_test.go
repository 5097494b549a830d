package deploytest

import (
	"bytes"
	"context"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"

	"bandarchive/shared/config"
	"bandarchive/shared/routes"
)

const (
	rootCompose = "docker-compose.yml"
	iacCompose  = ".iac/docker-compose.yml"

	// uploadsPath is where every service that mounts the uploads volume
	// sees it; Nginx's internal location aliases it.
	uploadsPath = "/srv/bandarchive/uploads"
	// accelPrefix is Nginx's internal location for X-Accel-Redirect.
	accelPrefix = "/_recordings"
	// drainTime is how long the runtime waits for requests on SIGTERM
	// (shared/runtime); a container must be given longer before SIGKILL.
	drainTime = 30 * time.Second
)

// usesUploads are the functions, and the worker, that keep recordings in
// UPLOADS_DIR.
var usesUploads = []string{routes.Upload, routes.Recordings, workerFunction}

// uploadsAdmin is the service that keeps the uploads volume owned by the
// functions' user and through which it is backed up and restored; it runs
// uploadsAdminCommand, which the image has from uploadsAdminScript.
const (
	uploadsAdmin        = "uploads-admin"
	uploadsAdminCommand = "uploads-admin"
	uploadsAdminScript  = "scripts/uploads-admin.sh"
)

// iacEnv is what the platform gives the .iac stack: IMAGE pinned by digest
// and the decrypted .iac/.env. The values differ from every default so that
// the checks see them arrive.
func iacEnv() map[string]string {
	return map[string]string{
		"IMAGE":                "registry.example.org/bandarchive@sha256:" + strings.Repeat("ab", 32),
		"POSTGRES_USER":        "archive_user",
		"POSTGRES_PASSWORD":    "0123456789abcdef",
		"POSTGRES_DB":          "archive_db",
		"MAILERSEND_API_TOKEN": "mlsn.test-token",
		"MAIL_FROM":            "archive@example.org",
		"APP_HOST":             "archive.example.org", // the platform: the first of .iac/iac.yml's app_domains
	}
}

// loadCompose loads and validates a compose file as Docker Compose does,
// with every profile enabled and only env as the environment (no .env file).
// It returns the warnings the loader logged too (such as a variable used
// without a value or default). Not safe for parallel tests: the loader logs
// through logrus's global logger.
func loadComposeWarnings(t *testing.T, rel string, env map[string]string) (*types.Project, string, error) {
	t.Helper()
	var warnings bytes.Buffer
	logrus.SetOutput(&warnings)
	defer logrus.SetOutput(os.Stderr)
	path := filepath.Join(repoRoot(t), rel)
	details := types.ConfigDetails{
		WorkingDir:  filepath.Dir(path),
		ConfigFiles: []types.ConfigFile{{Filename: path}},
		Environment: types.Mapping(maps.Clone(env)),
	}
	p, err := loader.LoadWithContext(context.Background(), details, loader.WithProfiles([]string{"*"}))
	return p, warnings.String(), err
}

func loadCompose(t *testing.T, rel string, env map[string]string) (*types.Project, error) {
	t.Helper()
	p, _, err := loadComposeWarnings(t, rel, env)
	return p, err
}

// mustLoadCompose loads a compose file that must load without warnings.
func mustLoadCompose(t *testing.T, rel string, env map[string]string) *types.Project {
	t.Helper()
	p, warnings, err := loadComposeWarnings(t, rel, env)
	if err != nil {
		t.Fatalf("load %s: %v", rel, err)
	}
	if warnings != "" {
		t.Errorf("loading %s warns:\n%s", rel, warnings)
	}
	return p
}

// allServices are the enabled and the profile-only services.
func allServices(p *types.Project) types.Services {
	all := types.Services{}
	maps.Copy(all, p.Services)
	maps.Copy(all, p.DisabledServices)
	return all
}

// environ turns a service's environment into KEY=VALUE pairs; a variable
// without a value (taken from the host) is left out.
func environ(s types.ServiceConfig) []string {
	var env []string
	for _, k := range sorted(s.Environment) {
		if v := s.Environment[k]; v != nil {
			env = append(env, k+"="+*v)
		}
	}
	return env
}

func envValue(s types.ServiceConfig, key string) (string, bool) {
	v, ok := s.Environment[key]
	if !ok || v == nil {
		return "", false
	}
	return *v, true
}

func duration(d *types.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return time.Duration(*d)
}

func TestComposeStacks(t *testing.T) {
	for _, c := range []struct {
		file  string
		env   map[string]string
		extra []string // services besides db, migrate, the functions and nginx
	}{
		{rootCompose, map[string]string{}, []string{uploadsAdmin}},
		{iacCompose, iacEnv(), []string{uploadsAdmin}},
	} {
		t.Run(c.file, func(t *testing.T) {
			checkStack(t, mustLoadCompose(t, c.file, c.env), c.extra)
		})
	}
}

// checkStack holds a stack to the route table, the configuration and the
// deployment rules both compose files share.
func checkStack(t *testing.T, p *types.Project, extra []string) {
	services := allServices(p)

	want := append([]string{"db", "migrate", "nginx"}, extra...)
	want = append(want, running()...)
	slices.Sort(want)
	if got := sorted(services); !slices.Equal(got, want) {
		t.Fatalf("services = %v, want %v: db, migrate, nginx, %v, the worker and one per function of the route table", got, want, extra)
	}

	db := services["db"]
	migrate := services["migrate"]
	nginx := services["nginx"]

	// PostgreSQL.
	if !strings.HasPrefix(db.Image, "postgres:16") {
		t.Errorf("db image = %q, want postgres:16", db.Image)
	}
	if db.Restart != types.RestartPolicyUnlessStopped {
		t.Errorf("db restart = %q, want unless-stopped", db.Restart)
	}
	if db.HealthCheck == nil || !strings.Contains(strings.Join(db.HealthCheck.Test, " "), "pg_isready") {
		t.Errorf("db needs a pg_isready healthcheck, has %+v", db.HealthCheck)
	}
	dbUser, _ := envValue(db, "POSTGRES_USER")
	dbPassword, _ := envValue(db, "POSTGRES_PASSWORD")
	dbName, _ := envValue(db, "POSTGRES_DB")
	if dbUser == "" || dbPassword == "" || dbName == "" {
		t.Errorf("db needs POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB, has %v", environ(db))
	}
	checkDatabaseURL := func(service string, s types.ServiceConfig) {
		t.Helper()
		raw, _ := envValue(s, "DATABASE_URL")
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "postgres" || u.Host != "db:5432" || u.User.Username() != dbUser ||
			u.Path != "/"+dbName {
			t.Errorf("%s: DATABASE_URL = %q, want postgres://%s:…@db:5432/%s", service, raw, dbUser, dbName)
			return
		}
		if pw, _ := u.User.Password(); pw != dbPassword {
			t.Errorf("%s: DATABASE_URL has another password than the db service's POSTGRES_PASSWORD", service)
		}
	}

	// The one-shot migrate step.
	if len(migrate.Command) != 2 || !isFunction(migrate.Command[0]) || migrate.Command[1] != "migrate" {
		t.Errorf("migrate command = %q, want [<function> migrate]", migrate.Command)
	}
	if migrate.Restart != types.RestartPolicyNo {
		t.Errorf("migrate restart = %q, want \"no\" (it runs once per deploy)", migrate.Restart)
	}
	if d, ok := migrate.DependsOn["db"]; !ok || d.Condition != types.ServiceConditionHealthy {
		t.Errorf("migrate must depend on db being healthy, depends on %+v", migrate.DependsOn)
	}
	migrateAll, migrateRequired := migrateVars()
	for k := range migrate.Environment {
		if !slices.Contains(migrateAll, k) {
			t.Errorf("migrate: %s is not a variable of the migrate step (shared/config.Migrate)", k)
		}
	}
	for _, k := range migrateRequired {
		if _, ok := envValue(migrate, k); !ok {
			t.Errorf("migrate: required %s is not set", k)
		}
	}
	if _, err := config.LoadMigrate(environ(migrate)); err != nil {
		t.Errorf("migrate: its environment does not load: %v", err)
	}
	checkDatabaseURL("migrate", migrate)

	// The functions.
	fnAll, fnRequired := functionVars()
	for _, name := range functions() {
		s := services[name]
		if !slices.Equal(s.Command, types.ShellCommand{name}) {
			t.Errorf("%s: command = %q, want [%q]", name, s.Command, name)
		}
		if s.Restart != types.RestartPolicyUnlessStopped {
			t.Errorf("%s: restart = %q, want unless-stopped", name, s.Restart)
		}
		if d, ok := s.DependsOn["migrate"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s: must depend on migrate having completed successfully, depends on %+v", name, s.DependsOn)
		}
		// After a restore the files are root's until uploads-admin gives
		// them back; it is healthy once it has.
		if d, ok := s.DependsOn[uploadsAdmin]; slices.Contains(usesUploads, name) && (!ok || d.Condition != types.ServiceConditionHealthy) {
			t.Errorf("%s: must depend on %s being healthy (the uploads given back to it), depends on %+v", name, uploadsAdmin, s.DependsOn)
		}
		for k := range s.Environment {
			if !slices.Contains(fnAll, k) {
				t.Errorf("%s: %s is not a configuration variable (shared/config)", name, k)
			}
		}
		for _, k := range fnRequired {
			if _, ok := envValue(s, k); !ok {
				t.Errorf("%s: required %s is not set", name, k)
			}
		}
		if port, ok := envValue(s, "PORT"); ok && port != "8080" {
			t.Errorf("%s: PORT = %s; Nginx and the healthcheck expect 8080", name, port)
		}
		cfg, err := config.Load(environ(s))
		if err != nil {
			t.Errorf("%s: its environment does not load: %v", name, err)
			continue
		}
		if cfg.ClientIPHeader != "X-Real-IP" {
			t.Errorf("%s: CLIENT_IP_HEADER = %q, want X-Real-IP (set by our Nginx)", name, cfg.ClientIPHeader)
		}
		if cfg.Storage.AccelRedirectPrefix != accelPrefix {
			t.Errorf("%s: ACCEL_REDIRECT_PREFIX = %q, want %s", name, cfg.Storage.AccelRedirectPrefix, accelPrefix)
		}
		checkDatabaseURL(name, s)
		if dir, ok := envValue(s, "UPLOADS_DIR"); slices.Contains(usesUploads, name) != ok || (ok && dir != uploadsPath) {
			t.Errorf("%s: UPLOADS_DIR = %q; want %s on %v only", name, dir, uploadsPath, usesUploads)
		}
		if s.HealthCheck == nil || !strings.Contains(strings.Join(s.HealthCheck.Test, " "), "http://127.0.0.1:8080/healthz") {
			t.Errorf("%s: needs a healthcheck on http://127.0.0.1:8080/healthz, has %+v", name, s.HealthCheck)
		}
		if g := duration(s.StopGracePeriod); g <= drainTime {
			t.Errorf("%s: stop_grace_period = %v; the runtime drains for up to %v, give it longer", name, g, drainTime)
		}
	}

	// Nginx.
	if len(nginx.Command) == 0 || nginx.Command[0] != "nginx" {
		t.Errorf("nginx command = %q, want nginx …", nginx.Command)
	}
	if nginx.Restart != types.RestartPolicyUnlessStopped {
		t.Errorf("nginx restart = %q, want unless-stopped", nginx.Restart)
	}
	if nginx.StopSignal != "SIGQUIT" {
		t.Errorf("nginx stop_signal = %q, want SIGQUIT (graceful stop; the image's own is SIGTERM)", nginx.StopSignal)
	}
	for _, name := range functions() {
		if _, ok := nginx.DependsOn[name]; !ok {
			t.Errorf("nginx must depend on %s (its upstream names must resolve at start)", name)
		}
	}
	if nginx.HealthCheck == nil || len(nginx.HealthCheck.Test) == 0 {
		t.Errorf("nginx needs a healthcheck")
	}

	// Data: two named volumes, nothing bound from the host.
	if got := sorted(p.Volumes); !slices.Equal(got, []string{"db", "uploads"}) {
		t.Errorf("volumes = %v, want [db uploads]", got)
	}
	for name, v := range p.Volumes {
		if v.External {
			t.Errorf("volume %s is external; the stack owns its data volumes", name)
		}
	}
	mounts := map[string]map[string]types.ServiceVolumeConfig{} // volume → service → mount
	for _, name := range sorted(services) {
		for _, m := range services[name].Volumes {
			if m.Type != types.VolumeTypeVolume {
				t.Errorf("%s mounts %s as %s; all data lives in named volumes", name, m.Target, m.Type)
				continue
			}
			if _, ok := p.Volumes[m.Source]; !ok {
				t.Errorf("%s mounts %q, which is not a named volume of the stack", name, m.Source)
				continue
			}
			if mounts[m.Source] == nil {
				mounts[m.Source] = map[string]types.ServiceVolumeConfig{}
			}
			mounts[m.Source][name] = m
		}
	}
	if m, ok := mounts["db"]["db"]; len(mounts["db"]) != 1 || !ok || m.Target != "/var/lib/postgresql/data" {
		t.Errorf("the db volume must be mounted by db alone at /var/lib/postgresql/data, is mounted by %v", mounts["db"])
	}
	wantRW := map[string]bool{} // service → read-write
	for _, name := range usesUploads {
		wantRW[name] = true
	}
	wantRW["nginx"] = false
	// Read-write: a restore copies into it, and docker cp refuses a
	// read-only volume.
	wantRW[uploadsAdmin] = true
	if got := sorted(mounts["uploads"]); !slices.Equal(got, sorted(wantRW)) {
		t.Errorf("the uploads volume is mounted by %v, want %v", got, sorted(wantRW))
	}
	for name, m := range mounts["uploads"] {
		if m.Target != uploadsPath {
			t.Errorf("%s mounts uploads at %s, want %s", name, m.Target, uploadsPath)
		}
		if rw, ok := wantRW[name]; ok && m.ReadOnly == rw {
			t.Errorf("%s mounts uploads with read_only: %v, want %v", name, m.ReadOnly, !rw)
		}
	}
}

// TestComposeImageVariables: each function has its own image variable
// defaulting to the stack's image, so one function can be redeployed alone.
func TestComposeImageVariables(t *testing.T) {
	for _, c := range []struct {
		file, defaultImage string
		env                map[string]string
	}{
		{rootCompose, "bandarchive:latest", map[string]string{}},
		{iacCompose, iacEnv()["IMAGE"], iacEnv()},
	} {
		t.Run(c.file, func(t *testing.T) {
			p := mustLoadCompose(t, c.file, c.env)
			for _, name := range append([]string{"migrate", "nginx"}, running()...) {
				if got := p.Services[name].Image; got != c.defaultImage {
					t.Errorf("%s: image = %q, want %q by default", name, got, c.defaultImage)
				}
			}

			base := "registry.example.org/bandarchive:base"
			env := maps.Clone(c.env)
			env["IMAGE"] = base
			for _, name := range running() {
				env[imageVar(name)] = "registry.example.org/bandarchive:" + name
			}
			env["NGINX_IMAGE"] = "registry.example.org/bandarchive:web"
			p = mustLoadCompose(t, c.file, env)
			for _, name := range functions() {
				if got, want := p.Services[name].Image, env[imageVar(name)]; got != want {
					t.Errorf("%s: image = %q with %s=%s, want that", name, got, imageVar(name), want)
				}
			}
			if got := p.Services["nginx"].Image; got != env["NGINX_IMAGE"] {
				t.Errorf("nginx: image = %q, want NGINX_IMAGE's", got)
			}
			for _, name := range []string{"migrate", uploadsAdmin} {
				if got := p.Services[name].Image; got != base {
					t.Errorf("%s: image = %q, want IMAGE (%s): the newest build migrates and keeps the uploads", name, got, base)
				}
			}
		})
	}
}

func TestRootCompose(t *testing.T) {
	p := mustLoadCompose(t, rootCompose, map[string]string{})
	for _, name := range sorted(p.Services) {
		if s := p.Services[name]; name != "nginx" && len(s.Ports) > 0 {
			t.Errorf("%s publishes ports; only nginx is reachable from outside", name)
		}
	}
	ports := p.Services["nginx"].Ports
	if len(ports) != 1 || ports[0].Target != 8080 || ports[0].Published != "8080" {
		t.Errorf("nginx ports = %+v, want ${PORT:-8080}:8080", ports)
	}
	if p2 := mustLoadCompose(t, rootCompose, map[string]string{"PORT": "9090"}); p2.Services["nginx"].Ports[0].Published != "9090" {
		t.Errorf("nginx does not publish on PORT: %+v", p2.Services["nginx"].Ports)
	}

	b := p.Services["migrate"].Build
	if b == nil || filepath.Clean(b.Context) != repoRoot(t) || (b.Dockerfile != dockerfile && b.Dockerfile != "") {
		t.Errorf("migrate should build the image from %s in the repository root, as the platform's CI does, build = %+v", dockerfile, b)
	}
	for _, name := range sorted(p.Services) {
		if s := p.Services[name]; name != "migrate" && s.Build != nil {
			t.Errorf("%s builds too; one service builds the one image the others share", name)
		}
	}
}

func TestIACCompose(t *testing.T) {
	p := mustLoadCompose(t, iacCompose, iacEnv())
	services := allServices(p)
	domains := appDomains(t)

	for _, name := range sorted(services) {
		if len(services[name].Ports) > 0 {
			t.Errorf("%s publishes ports; on the platform Traefik is the way in", name)
		}
	}

	// Networks: nginx alone on Traefik's, PostgreSQL on an internal one.
	if n, ok := p.Networks["traefik"]; !ok || !bool(n.External) {
		t.Errorf("the traefik network must be declared external, is %+v", p.Networks["traefik"])
	}
	for _, name := range sorted(services) {
		if _, on := services[name].Networks["traefik"]; on != (name == "nginx") {
			t.Errorf("%s on the traefik network: %v; only nginx belongs there", name, on)
		}
	}
	if n, ok := p.Networks["data"]; !ok || !n.Internal {
		t.Errorf("the data network must be internal, is %+v", p.Networks["data"])
	}
	if got := sorted(services["db"].Networks); !slices.Equal(got, []string{"data"}) {
		t.Errorf("db networks = %v, want [data]", got)
	}
	for _, name := range functions() {
		if _, ok := services[name].Networks["data"]; !ok {
			t.Errorf("%s is not on the data network, so it cannot reach db", name)
		}
		if _, ok := services[name].Networks["default"]; !ok {
			t.Errorf("%s is not on the default network, so nginx cannot reach it (nor it Mailersend)", name)
		}
	}

	// Traefik routes the domains of .iac/iac.yml to nginx, without the
	// platform's app-buffering (20 MB cap on request bodies).
	labels := services["nginx"].Labels
	if labels["traefik.enable"] != "true" {
		t.Errorf("nginx: traefik.enable = %q, want true", labels["traefik.enable"])
	}
	routers := map[string]bool{}
	for k := range labels {
		if m := regexp.MustCompile(`^traefik\.http\.routers\.([^.]+)\.`).FindStringSubmatch(k); m != nil {
			routers[m[1]] = true
		}
	}
	if len(routers) == 0 {
		t.Fatalf("nginx has no Traefik router labels: %v", labels)
	}
	for _, r := range sorted(routers) {
		prefix := "traefik.http.routers." + r + "."
		var hosts []string
		for _, m := range regexp.MustCompile("Host\\(`([^`]+)`\\)").FindAllStringSubmatch(labels[prefix+"rule"], -1) {
			hosts = append(hosts, m[1])
		}
		slices.Sort(hosts)
		if !slices.Equal(hosts, domains) {
			t.Errorf("router %s: rule %q routes %v, want the app_domains of .iac/iac.yml %v", r, labels[prefix+"rule"], hosts, domains)
		}
		if labels[prefix+"entrypoints"] != "websecure" {
			t.Errorf("router %s: entrypoints = %q, want websecure", r, labels[prefix+"entrypoints"])
		}
		if labels[prefix+"tls.certresolver"] == "" {
			t.Errorf("router %s: no tls.certresolver", r)
		}
		for mw := range strings.SplitSeq(labels[prefix+"middlewares"], ",") {
			if name, _, _ := strings.Cut(strings.TrimSpace(mw), "@"); name == "app-buffering" {
				t.Errorf("router %s uses app-buffering, which refuses request bodies over 20 MB: uploads go through this router", r)
			}
		}
	}
	for k, v := range labels {
		if strings.Contains(v, "app-buffering") {
			t.Errorf("nginx label %s=%s refers to app-buffering", k, v)
		}
	}
	var port string
	for k, v := range labels {
		if strings.HasPrefix(k, "traefik.http.services.") && strings.HasSuffix(k, ".loadbalancer.server.port") {
			port = v
		}
	}
	if port != "8080" {
		t.Errorf("nginx: Traefik service port = %q, want 8080", port)
	}

	// The archive's public origin is one of those domains, over https
	// (the worker's too: it writes the links).
	for _, name := range running() {
		cfg, err := config.Load(environ(services[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		u, _ := url.Parse(cfg.BaseURL)
		if u.Scheme != "https" || !slices.Contains(domains, u.Hostname()) {
			t.Errorf("%s: BASE_URL = %s, want https:// and one of %v", name, cfg.BaseURL, domains)
		}
		if !cfg.CookieSecure {
			t.Errorf("%s: COOKIE_SECURE must be true behind TLS", name)
		}
	}
}

// requiredVars are the variables a compose file refuses to load without
// (${NAME:?message}).
func requiredVars(t *testing.T, rel string) []string {
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+):\?`).FindAllStringSubmatch(readFile(t, rel), -1) {
		seen[m[1]] = true
	}
	return sorted(seen)
}

// TestIACComposeRequiresItsVariables: a deploy without IMAGE or one of the
// secrets stops at `docker compose up` rather than starting half-configured
// (the dev mailer would write sign-in links to the log).
func TestIACComposeRequiresItsVariables(t *testing.T) {
	required := requiredVars(t, iacCompose)
	for _, k := range []string{"IMAGE", "POSTGRES_PASSWORD", "MAILERSEND_API_TOKEN", "MAIL_FROM"} {
		if !slices.Contains(required, k) {
			t.Errorf("%s does not require %s", iacCompose, k)
		}
	}
	for _, k := range required {
		env := iacEnv()
		if _, ok := env[k]; !ok {
			t.Errorf("iacEnv lacks %s, which %s requires", k, iacCompose)
			continue
		}
		delete(env, k)
		if _, err := loadCompose(t, iacCompose, env); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("without %s, loading %s gives %v; want an error naming it", k, iacCompose, err)
		}
	}
}

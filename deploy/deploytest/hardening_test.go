package deploytest

import (
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// composeFiles are both stacks with the environment each loads with.
func composeFiles() []struct {
	file string
	env  map[string]string
} {
	return []struct {
		file string
		env  map[string]string
	}{
		{rootCompose, map[string]string{}},
		{iacCompose, iacEnv()},
	}
}

// oneShot are the services that run once and exit: nothing routes to them
// and nothing waits for their health, only for their completion
// (service_completed_successfully).
var oneShot = []string{"migrate"}

// TestComposeHealthchecks: every long-running service is healthy within
// seconds of starting, not after a first interval. Traefik ignores a
// container while its health is `starting`, and the platform's deploy
// recreates every container; with only interval: 30s the archive would be
// unreachable for 30 s on each deploy. start_interval (Compose 2.20+,
// Docker 25+) probes often while the service starts, interval rarely after.
func TestComposeHealthchecks(t *testing.T) {
	const (
		maxStartInterval = 2 * time.Second
		minStartPeriod   = 10 * time.Second
		minInterval      = 5 * time.Second
	)
	for _, c := range composeFiles() {
		t.Run(c.file, func(t *testing.T) {
			services := allServices(mustLoadCompose(t, c.file, c.env))
			for _, name := range sorted(services) {
				h := services[name].HealthCheck
				if slices.Contains(oneShot, name) {
					// A job: say so rather than inherit an image's check.
					if h == nil || !h.Disable {
						t.Errorf("%s: a one-shot job; want healthcheck: {disable: true}, has %+v", name, h)
					}
					continue
				}
				if h == nil || h.Disable || len(h.Test) == 0 || h.Test[0] == "NONE" {
					t.Errorf("%s: no healthcheck", name)
					continue
				}
				start, period, interval := duration(h.StartInterval), duration(h.StartPeriod), duration(h.Interval)
				if start <= 0 || start > maxStartInterval {
					t.Errorf("%s: start_interval = %v, want at most %v so it is healthy within seconds of starting", name, start, maxStartInterval)
				}
				if period < minStartPeriod {
					t.Errorf("%s: start_period = %v, want at least %v (start_interval applies only within it)", name, period, minStartPeriod)
				}
				if interval < minInterval || interval < start {
					t.Errorf("%s: interval = %v, want at least %v once started", name, interval, minInterval)
				}
				if h.Timeout == nil || duration(h.Timeout) <= 0 || h.Retries == nil || *h.Retries == 0 {
					t.Errorf("%s: healthcheck without timeout or retries: %+v", name, h)
				}
			}
		})
	}
}

// rootServices may run as root, each for its reason; every other service
// runs as appUser.
var rootServices = map[string]string{
	// Its entrypoint must start as root: it gives the data and socket
	// directories to postgres, then drops to postgres itself (gosu).
	// With `user:` it would skip that, and a volume PostgreSQL did not
	// create would not be its own.
	"db": "the official PostgreSQL image starts as root and drops to postgres itself",
	// The platform's backup writes the tar into a staging folder owned
	// by root with mode 0755, and a restore leaves files owned by root
	// that the functions could not touch until it gives them back.
	uploadsAdmin: "the platform's backup writes into a root-owned 0755 folder, and restored files must be given back to 65532",
}

// appUser is the image's user (Dockerfile: USER, APP_UID).
const appUser = "65532:65532"

// capsAllowed are the only capabilities a service may keep (after cap_drop:
// [ALL]); every other service keeps none.
var capsAllowed = map[string][]string{
	// For the entrypoint's root phase only: chown the data and socket
	// directories (CHOWN), read the data directory postgres owns to do so
	// (DAC_READ_SEARCH), chmod it (FOWNER), and switch to postgres (SETGID,
	// SETUID). PostgreSQL itself runs as postgres, with none.
	"db": {"CHOWN", "DAC_READ_SEARCH", "FOWNER", "SETGID", "SETUID"},
	// tar reads the functions' owner-only files (DAC_READ_SEARCH); restored
	// files are given back to 65532 (CHOWN).
	uploadsAdmin: {"CHOWN", "DAC_READ_SEARCH"},
}

// TestComposeHardening: every container has a read-only root filesystem,
// writes only to its volumes and tmpfs mounts, keeps no capability it does
// not need, cannot gain privileges, and runs as 65532 unless it must be
// root (rootServices, with the reason).
func TestComposeHardening(t *testing.T) {
	nginxWrites := nginxWritablePaths(t)
	for _, c := range composeFiles() {
		t.Run(c.file, func(t *testing.T) {
			services := allServices(mustLoadCompose(t, c.file, c.env))
			for _, name := range sorted(services) {
				s := services[name]
				if !s.ReadOnly {
					t.Errorf("%s: read_only is not set; every container has a read-only root filesystem", name)
				}
				if !slices.Equal(s.CapDrop, []string{"ALL"}) {
					t.Errorf("%s: cap_drop = %v, want [ALL]", name, s.CapDrop)
				}
				if got, want := slices.Sorted(slices.Values(s.CapAdd)), capsAllowed[name]; !slices.Equal(got, want) {
					t.Errorf("%s: cap_add = %v, want %v", name, got, want)
				}
				if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
					t.Errorf("%s: security_opt = %v, want no-new-privileges:true", name, s.SecurityOpt)
				}
				if s.Privileged || s.Pid != "" || s.Ipc != "" || len(s.Devices) > 0 {
					t.Errorf("%s: privileged, or shares the host's pid or ipc namespace, or has devices", name)
				}
				if reason, root := rootServices[name]; root {
					// Said explicitly, so that it reads as a choice.
					if name == "db" && s.User != "" {
						t.Errorf("db: user = %q; %s, which `user:` would skip", s.User, reason)
					}
					if name == uploadsAdmin && s.User != "0:0" {
						t.Errorf("%s: user = %q, want \"0:0\": %s", name, s.User, reason)
					}
				} else if s.User != appUser {
					t.Errorf("%s: user = %q, want %q (the image's unprivileged user, stated in the stack)", name, s.User, appUser)
				}
			}

			// What must be writable under a read-only root: Nginx's pid
			// and temporary files (deploy/nginx/nginx.conf) and its
			// compiled-in temporary directory; PostgreSQL's socket
			// directory and the entrypoint's here-documents.
			for name, paths := range map[string][]string{
				"nginx": append(nginxWrites, "/var/cache/nginx/client_temp"),
				"db":    {"/var/run/postgresql/.s.PGSQL.5432", "/tmp"},
			} {
				tmpfs := tmpfsTargets(services[name])
				for _, p := range paths {
					if !slices.ContainsFunc(tmpfs, func(dir string) bool { return within(p, dir) }) {
						t.Errorf("%s writes %s, which is on no tmpfs of its (has %v) under read_only", name, p, tmpfs)
					}
				}
			}
			for _, name := range functions() {
				if !slices.Contains(tmpfsTargets(services[name]), "/tmp") {
					t.Errorf("%s: no tmpfs at /tmp (os.TempDir) under read_only", name)
				}
			}
		})
	}
}

// nginxWritablePaths are the files and directories Nginx writes by its
// config: the pid file and the temporary paths.
func nginxWritablePaths(t *testing.T) []string {
	conf := readFile(t, nginxConf)
	var paths []string
	for _, d := range []string{"pid", "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path"} {
		for _, v := range directive(conf, d) {
			paths = append(paths, strings.Trim(strings.Fields(v)[0], `"`))
		}
	}
	if len(paths) == 0 {
		t.Fatalf("%s names no pid or temporary path", nginxConf)
	}
	return paths
}

// tmpfsTargets are the mount points of a service's tmpfs mounts, from
// tmpfs: (path[:options]) and from volumes of type tmpfs.
func tmpfsTargets(s types.ServiceConfig) []string {
	var out []string
	for _, t := range s.Tmpfs {
		target, _, _ := strings.Cut(t, ":")
		out = append(out, path.Clean(target))
	}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeTmpfs {
			out = append(out, path.Clean(v.Target))
		}
	}
	return out
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

package deploytest

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"bandarchive/shared/config"
)

// nginxConf is the rendered Nginx config that the image carries
// (deploy/nginx renders it from the route table).
const nginxConf = "deploy/nginx/nginx.conf"

// directive returns the arguments of every occurrence of an Nginx directive,
// unquoted.
func directive(conf, name string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s*`+regexp.QuoteMeta(name)+`\s+([^;{}\n]*);`).FindAllStringSubmatch(conf, -1) {
		out = append(out, strings.Trim(strings.TrimSpace(m[1]), `"`))
	}
	return out
}

// nginxSize parses an Nginx size: bytes, or k, m, g.
func nginxSize(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToLower(s[len(s)-1:]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

// TestNginxConfFitsStack: the config in the image agrees with the compose
// files and the image about names, paths, ports and sizes.
func TestNginxConfFitsStack(t *testing.T) {
	conf := readFile(t, nginxConf)

	// Upstreams: each function by its service name, on the port it serves.
	var hosts []string
	for _, s := range directive(conf, "server") {
		host, port, ok := strings.Cut(strings.Fields(s)[0], ":")
		if !ok || port != "8080" {
			t.Errorf("%s: upstream server %q, want <function>:8080", nginxConf, s)
		}
		hosts = append(hosts, host)
	}
	slices.Sort(hosts)
	if want := slices.Sorted(slices.Values(functions())); !slices.Equal(hosts, want) {
		t.Errorf("%s: upstream servers %v, want the compose services of the functions %v", nginxConf, hosts, want)
	}
	if !slices.ContainsFunc(directive(conf, "listen"), func(l string) bool { return strings.Fields(l)[0] == "8080" }) {
		t.Errorf("%s does not listen on 8080, where the compose files and Traefik send requests", nginxConf)
	}
	if !regexp.MustCompile(`location\s+=\s+/healthz\s*\{`).MatchString(conf) {
		t.Errorf("%s has no location = /healthz for the nginx service's healthcheck", nginxConf)
	}

	// The uploads volume and X-Accel-Redirect.
	m := regexp.MustCompile(`location\s+` + regexp.QuoteMeta(accelPrefix+"/") + `\s*\{([^}]*)\}`).FindStringSubmatch(conf)
	if m == nil {
		t.Fatalf("%s has no location %s/ for X-Accel-Redirect (ACCEL_REDIRECT_PREFIX)", nginxConf, accelPrefix)
	}
	if len(directive(m[1], "internal")) == 0 && !regexp.MustCompile(`(?m)^\s*internal;`).MatchString(m[1]) {
		t.Errorf("%s: location %s/ must be internal", nginxConf, accelPrefix)
	}
	if alias := directive(m[1], "alias"); len(alias) != 1 || strings.TrimSuffix(alias[0], "/") != uploadsPath {
		t.Errorf("%s: location %s/ aliases %v, want %s/ (where the compose files mount the uploads volume)", nginxConf, accelPrefix, alias, uploadsPath)
	}

	// Nginx runs as the app user: it may not switch users, and writes only
	// where that user can.
	if u := directive(conf, "user"); len(u) > 0 {
		t.Errorf("%s sets user %v; the image runs Nginx unprivileged", nginxConf, u)
	}
	for _, d := range []string{"pid", "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path"} {
		v := directive(conf, d)
		if len(v) != 1 || !strings.HasPrefix(v[0], "/tmp/") {
			t.Errorf("%s: %s = %v, want one path under /tmp/ (writable by the unprivileged user)", nginxConf, d, v)
		}
	}

	// Uploads as large as the functions accept get through.
	var largest int64
	for _, v := range directive(conf, "client_max_body_size") {
		n, err := nginxSize(v)
		if err != nil {
			t.Errorf("%s: client_max_body_size %q: %v", nginxConf, v, err)
		}
		largest = max(largest, n)
	}
	for _, file := range []string{rootCompose, iacCompose} {
		env := map[string]string{}
		if file == iacCompose {
			env = iacEnv()
		}
		p := mustLoadCompose(t, file, env)
		for _, name := range functions() {
			cfg, err := config.Load(environ(p.Services[name]))
			if err != nil {
				t.Fatalf("%s: %s: %v", file, name, err)
			}
			if cfg.Storage.MaxUploadBytes > largest {
				t.Errorf("%s: %s accepts uploads of %d bytes, but Nginx refuses bodies over %d", file, name, cfg.Storage.MaxUploadBytes, largest)
			}
		}
	}
}

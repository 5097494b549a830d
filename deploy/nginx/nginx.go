// Package nginx renders the Nginx config of the self-hosted stack from
// nginx.conf.tmpl: the API's locations from the route table, the pages and
// static files from the page table (both shared/routes), the security
// headers from shared/httpx. nginx.conf beside
// it is the rendering for the Docker Compose stack (Production); `go run
// ./local stack` renders the same template for local ports.
package nginx

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"bandarchive/shared/httpx"
	"bandarchive/shared/limits"
	"bandarchive/shared/routes"
)

//go:embed nginx.conf.tmpl
var source string

// Config is what differs between one rendering and another.
type Config struct {
	// Purpose names the rendering in the file's first comment.
	Purpose string
	// Listen holds the arguments of the listen directives: "8080",
	// "127.0.0.1:8080", "[::1]:8080".
	Listen []string
	// Upstreams maps every function of the route table to its address
	// (host:port).
	Upstreams map[string]string
	// WebRoot is the directory of the browser UI (web/).
	WebRoot string
	// UploadsDir is where the functions store recordings (UPLOADS_DIR), as
	// Nginx sees it.
	UploadsDir string
	// MaxUploadBytes is the functions' MAX_UPLOAD_BYTES.
	MaxUploadBytes int64
	// User is the user workers run as; empty leaves Nginx's default.
	User string
	// PIDFile, ErrorLog ("stderr" or a file) and AccessLog (a file, such as
	// /dev/stdout) are where Nginx writes; TempDir holds the directories of
	// request bodies and buffered responses.
	PIDFile, ErrorLog, AccessLog, TempDir string
	// Resolver, when set, is the DNS server Nginx asks again and again for
	// the upstreams' addresses (Docker's 127.0.0.11), so a function's
	// container can be recreated alone, with a new address, without
	// reloading Nginx. It needs Nginx 1.27.3 or later (the image has 1.28);
	// empty resolves once, at start.
	Resolver string
	// TrustedProxies are the addresses (CIDR) of the TLS proxy in front,
	// whose X-Forwarded-For names the client; empty: the peer is the client.
	TrustedProxies []string
}

// Production addresses inside the Docker Compose stack.
const (
	// FunctionPort is the port every function's container serves on.
	FunctionPort = 8080
	// ProductionWebRoot is where the Nginx image holds web/.
	ProductionWebRoot = "/srv/bandarchive/web"
	// ProductionUploadsDir is where the uploads volume is mounted (read
	// only) in the Nginx container.
	ProductionUploadsDir = "/srv/bandarchive/uploads"
)

// Production is the config of deploy/nginx/nginx.conf: each function is
// the Compose service of its name, Nginx listens on 8080 behind Traefik,
// and everything Nginx writes goes to stdout, stderr or /tmp, so it also
// runs as a non-root user.
func Production() Config {
	up := map[string]string{}
	for _, name := range routes.Functions() {
		up[name] = net.JoinHostPort(name, strconv.Itoa(FunctionPort))
	}
	return Config{
		Purpose:        "the Docker Compose stack, behind Traefik",
		Listen:         []string{"8080"},
		Upstreams:      up,
		WebRoot:        ProductionWebRoot,
		UploadsDir:     ProductionUploadsDir,
		MaxUploadBytes: limits.DefaultMaxUploadBytes,
		PIDFile:        "/tmp/nginx.pid",
		ErrorLog:       "stderr",
		AccessLog:      "/dev/stdout",
		TempDir:        "/tmp",
		Resolver:       "127.0.0.11",
		// Docker's private networks, where Traefik's container lives; no
		// port of this stack is published, so nothing else reaches Nginx.
		TrustedProxies: []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"},
	}
}

// HSTS is the Strict-Transport-Security of every answer: two years, with
// subdomains.
const HSTS = "max-age=63072000; includeSubDomains"

// location is one location block of the API.
type location struct {
	Match, Path, Methods, Function, Upstream string
	Upload                                   bool // streams large bodies
	Secret                                   bool // the path carries a token
}

type upstream struct{ Name, Addr string }

type pageLocation struct {
	Match, File string
	Secret      bool // the path carries a token
}

type staticLocation struct{ Match string }

type header struct{ Name, Value string }

// data is what the template sees.
type data struct {
	Config
	Upstreams       []upstream
	Locations       []location
	Pages           []pageLocation
	Static          []staticLocation
	SecurityHeaders []header
	HSTS            string
	MaxBodyBytes    int64
	TooLargeMessage string
	APIPrefixes     []string
	NotFoundPage    string // its path, "/404.html"
}

// Render writes the config for c to w.
func Render(w io.Writer, c Config) error {
	d, err := prepare(c, routes.All())
	if err != nil {
		return err
	}
	t, err := template.New("nginx.conf").Funcs(template.FuncMap{"q": quote}).Parse(source)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return err
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func prepare(c Config, table []routes.Route) (data, error) {
	d := data{Config: c, HSTS: HSTS}
	var errs []error
	if len(c.Listen) == 0 {
		errs = append(errs, errors.New("nothing to listen on"))
	}
	for _, l := range c.Listen {
		if !validListen(l) {
			errs = append(errs, fmt.Errorf("listen %q is not a port or address:port", l))
		}
	}
	for _, f := range []struct{ name, path string }{
		{"web root", c.WebRoot}, {"uploads directory", c.UploadsDir}, {"pid file", c.PIDFile},
		{"error log", c.ErrorLog}, {"access log", c.AccessLog}, {"temporary directory", c.TempDir},
	} {
		name, p := f.name, f.path
		if p == "" {
			errs = append(errs, fmt.Errorf("the %s is not set", name))
		} else if !safeString(p) {
			errs = append(errs, fmt.Errorf("the %s %q has a character Nginx would misread", name, p))
		}
	}
	if c.MaxUploadBytes <= 0 {
		errs = append(errs, fmt.Errorf("MAX_UPLOAD_BYTES must be positive, got %d", c.MaxUploadBytes))
	}
	if c.User != "" && !userName.MatchString(c.User) {
		errs = append(errs, fmt.Errorf("user %q is not a user name", c.User))
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			errs = append(errs, fmt.Errorf("trusted proxy %q is not an address or CIDR", p))
		}
	}

	upstreamOf := map[string]string{}
	for _, name := range routes.Functions() {
		addr, ok := c.Upstreams[name]
		if !ok {
			errs = append(errs, fmt.Errorf("no upstream address for function %s", name))
			continue
		}
		if !validHostPort(addr) {
			errs = append(errs, fmt.Errorf("upstream %q of %s is not host:port", addr, name))
		}
		upstreamOf[name] = "function_" + strings.ReplaceAll(name, "-", "_")
		d.Upstreams = append(d.Upstreams, upstream{upstreamOf[name], addr})
	}
	for _, name := range slices.Sorted(maps.Keys(c.Upstreams)) {
		if !slices.Contains(routes.Functions(), name) {
			errs = append(errs, fmt.Errorf("upstream for %q, which is not a function of the route table", name))
		}
	}

	locs, err := locations(table)
	if err != nil {
		errs = append(errs, err)
	}
	for i := range locs {
		locs[i].Upstream = upstreamOf[locs[i].Function]
	}
	d.Locations = locs
	for _, p := range routes.Pages() {
		m, err := match(p.Path)
		if err != nil {
			errs = append(errs, err)
		}
		if !safeString(p.File) || strings.ContainsAny(p.File, " \t;{}") {
			errs = append(errs, fmt.Errorf("page file %q has a character Nginx would misread", p.File))
		}
		d.Pages = append(d.Pages, pageLocation{m, "/" + p.File, httpx.RedactPath(Sample(p.Path)) != Sample(p.Path)})
	}
	for _, prefix := range routes.StaticPrefixes {
		m := "= " + prefix
		if strings.HasSuffix(prefix, "/") {
			m = prefix
		}
		if !strings.HasPrefix(prefix, "/") || !literalPath.MatchString(prefix) {
			errs = append(errs, fmt.Errorf("static prefix %q is not a plain path", prefix))
		}
		d.Static = append(d.Static, staticLocation{m})
	}

	h := http.Header{}
	httpx.SetSecurityHeaders(h)
	for _, name := range slices.Sorted(maps.Keys(h)) {
		// Cache-Control differs by location: set where it belongs.
		if name == "Cache-Control" {
			continue
		}
		if !safeString(h.Get(name)) {
			errs = append(errs, fmt.Errorf("header %s has a character Nginx would misread", name))
		}
		d.SecurityHeaders = append(d.SecurityHeaders, header{name, h.Get(name)})
	}
	for _, prefix := range routes.APIPrefixes {
		if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") || !literalPath.MatchString(prefix) {
			errs = append(errs, fmt.Errorf("API prefix %q is not a plain folder path", prefix))
		}
		d.APIPrefixes = append(d.APIPrefixes, prefix)
	}
	d.NotFoundPage = "/" + routes.NotFoundPage
	if !literalPath.MatchString(d.NotFoundPage) {
		errs = append(errs, fmt.Errorf("not-found page %q is not a plain path", routes.NotFoundPage))
	}
	d.MaxBodyBytes = c.MaxUploadBytes + limits.FormOverhead
	d.TooLargeMessage = limits.TooLargeMessage(c.MaxUploadBytes)
	return d, errors.Join(errs...)
}

// locations turns the route table into one location per path, in table
// order: Nginx routes by path and the function answers each method
// (a wrong one with its JSON 405).
func locations(table []routes.Route) ([]location, error) {
	var locs []location
	index := map[string]int{}
	var errs []error
	for _, r := range table {
		if i, ok := index[r.Path]; ok {
			if locs[i].Function != r.Function {
				errs = append(errs, fmt.Errorf("%s belongs to both %s and %s: Nginx routes by path alone", r.Path, locs[i].Function, r.Function))
			}
			locs[i].Methods += ", " + r.Method
			continue
		}
		m, err := match(r.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		index[r.Path] = len(locs)
		locs = append(locs, location{
			Match: m, Path: r.Path, Methods: r.Method, Function: r.Function,
			Upload: r.LargeBody(),
			Secret: httpx.RedactPath(Sample(r.Path)) != Sample(r.Path),
		})
	}
	return locs, errors.Join(errs...)
}

var (
	wildcard    = regexp.MustCompile(`^\{[a-z_]+\}$`)
	literal     = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
	userName    = regexp.MustCompile(`^[a-z_][a-z0-9_-]*$`)
	literalPath = regexp.MustCompile(`^[A-Za-z0-9._~/-]+$`)
	hostName    = regexp.MustCompile(`^[A-Za-z0-9.-]+$`)
)

// match is the location argument for a table path: an exact match, or an
// anchored regular expression where each {name} is one path segment.
func match(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("path %q does not start with /", p)
	}
	// ServeMux's {$} ends a path at its trailing slash: "/{$}" is "/".
	p = strings.TrimSuffix(p, "{$}")
	if p == "/" {
		return "= /", nil
	}
	segs := strings.Split(p[1:], "/")
	exact := true
	re := make([]string, len(segs))
	for i, s := range segs {
		switch {
		case s == "" && i == len(segs)-1:
			re[i] = "" // a trailing slash
		case wildcard.MatchString(s):
			exact = false
			re[i] = "[^/]+"
		case literal.MatchString(s):
			re[i] = regexp.QuoteMeta(s)
		default:
			return "", fmt.Errorf("path %q: segment %q is neither a name nor a {wildcard}", p, s)
		}
	}
	if exact {
		return "= " + p, nil
	}
	return `~ "^/` + strings.Join(re, "/") + `$"`, nil
}

// Sample fills each {wildcard} of a table path with a sample segment
// ("/join/{token}" is "/join/sample"; "/{$}" is "/").
func Sample(p string) string {
	segs := strings.Split(strings.TrimSuffix(p, "{$}"), "/")
	for i, s := range segs {
		if wildcard.MatchString(s) {
			segs[i] = "sample"
		}
	}
	return strings.Join(segs, "/")
}

// safeString reports whether s can stand in double quotes in the config:
// no quote, backslash, variable or control character.
func safeString(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == '$' })
}

// quote puts a string checked by safeString in double quotes.
func quote(s string) string { return `"` + s + `"` }

func validListen(l string) bool {
	if _, err := strconv.ParseUint(l, 10, 16); err == nil {
		return true
	}
	return validHostPort(l)
}

func validHostPort(a string) bool {
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" {
		return false
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return false
	}
	return net.ParseIP(host) != nil || hostName.MatchString(host)
}

// Binary finds the nginx executable: on PATH, else where Debian puts it
// (/usr/sbin is not on a normal user's PATH).
func Binary() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	const debian = "/usr/sbin/nginx"
	if _, err := os.Stat(debian); err == nil {
		return debian, nil
	}
	return "", errors.New("nginx is not installed (Debian: apt-get install nginx)")
}

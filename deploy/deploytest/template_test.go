package deploytest

import (
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/global"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"

	"bandarchive/shared/pages"
	"bandarchive/shared/routes"
)

// loadTemplate reads template.yaml as SAM does. Ref to a resource and
// Fn::GetAtt resolve to "ref:<name>" and "getatt:<name>.<attribute>", so the
// checks can see what points where; Ref to a parameter gives its default,
// or "param:<name>" for a String parameter without one.
// Fn::Sub is left as written ("${SecretName}" stays), so the checks see
// what a dynamic reference names.
func loadTemplate(t *testing.T) *cloudformation.Template { return loadTemplateAt(t, "Default") }

// loadTemplateAt is loadTemplate with each Ref to a parameter resolved to
// the parameter's bound ("MinValue", "MaxValue") where it has one, its
// default otherwise: the template as the most extreme deploy sees it.
func loadTemplateAt(t *testing.T, bound string) *cloudformation.Template {
	t.Helper()
	ref := func(name string, input, template any) any {
		if s, ok := input.(string); ok {
			if tm, ok := template.(map[string]any); ok {
				if res, ok := tm["Resources"].(map[string]any); ok && res[s] != nil {
					return "ref:" + s
				}
				if params, ok := tm["Parameters"].(map[string]any); ok {
					if p, ok := params[s].(map[string]any); ok {
						switch _, isString := p["Default"].(string); {
						case p[bound] != nil && isString:
							return fmt.Sprint(p[bound])
						case p[bound] != nil:
							return p[bound]
						case p["Default"] == nil && p["Type"] == "String":
							return "param:" + s
						}
					}
				}
			}
		}
		return intrinsics.Ref(name, input, template)
	}
	getAtt := func(_ string, input, _ any) any {
		switch v := input.(type) {
		case string:
			return "getatt:" + v
		case []any:
			parts := make([]string, len(v))
			for i, p := range v {
				parts[i] = fmt.Sprint(p)
			}
			return "getatt:" + strings.Join(parts, ".")
		}
		return nil
	}
	sub := func(_ string, input, _ any) any {
		if s, ok := input.(string); ok {
			return s
		}
		return nil
	}
	tmpl, err := goformation.OpenWithOptions(filepath.Join(repoRoot(t), "template.yaml"), &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{"Ref": ref, "Fn::GetAtt": getAtt, "Fn::Sub": sub},
	})
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return tmpl
}

// apiPath is a route table path as API Gateway writes it: the same {name}
// parameters, a trailing {name...} as a greedy {name+}, no {$}.
func apiPath(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return regexp.MustCompile(`\{([A-Za-z0-9_]+)\.\.\.\}`).ReplaceAllString(p, "{$1+}")
}

// wantEvents are the HttpApi routes ("METHOD /path") a function of
// template.yaml must have: its rows of the route table; for the pages
// function each page of the page table, each static prefix (a folder
// as a greedy path) and the catch-all $default route, for the not-found
// page; none for migrate, which only the operator invokes.
func wantEvents(function string) []string {
	var want []string
	switch function {
	case pages.Function:
		for _, p := range routes.Pages() {
			want = append(want, "GET "+apiPath(p.Path))
		}
		for _, prefix := range routes.StaticPrefixes {
			if strings.HasSuffix(prefix, "/") {
				prefix += "{proxy+}"
			}
			want = append(want, "GET "+prefix)
		}
		want = append(want, "ANY $default")
	case migrateFunction, workerFunction:
	default:
		for _, r := range routes.For(function) {
			want = append(want, r.Method+" "+apiPath(r.Path))
		}
	}
	slices.Sort(want)
	return want
}

// environment is a function's environment as SAM makes it: the Globals'
// variables, with the function's own added and winning.
func environment(g *global.Function, fn *serverless.Function) map[string]string {
	env := map[string]string{}
	if g.Environment != nil {
		maps.Copy(env, g.Environment.Variables)
	}
	if fn.Environment != nil {
		maps.Copy(env, fn.Environment.Variables)
	}
	return env
}

func TestTemplate(t *testing.T) {
	tmpl := loadTemplate(t)

	if tmpl.Transform == nil || tmpl.Transform.String == nil || *tmpl.Transform.String != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform must be AWS::Serverless-2016-10-31")
	}
	if tmpl.AWSTemplateFormatVersion != "2010-09-09" {
		t.Errorf("AWSTemplateFormatVersion = %q", tmpl.AWSTemplateFormatVersion)
	}

	g, err := tmpl.GetServerlessGlobalFunction()
	if err != nil {
		t.Fatalf("Globals.Function: %v", err)
	}
	if g.Runtime == nil || *g.Runtime != "provided.al2023" {
		t.Errorf("Globals.Function.Runtime must be provided.al2023")
	}
	if g.Architectures == nil || !slices.Equal(*g.Architectures, []string{"arm64"}) {
		t.Errorf("Globals.Function.Architectures must be [arm64] (deploy/sam.mk builds GOARCH=arm64)")
	}
	if g.Handler == nil || *g.Handler != "bootstrap" {
		t.Errorf("Globals.Function.Handler must be bootstrap")
	}
	if g.Timeout == nil || *g.Timeout > 30 {
		t.Errorf("Globals.Function.Timeout must be set and at most 30 s (the HTTP API's integration limit)")
	}

	// Environment: configuration variables only, the required ones set
	// for every function (secrets: TestTemplateSecrets).
	all, required := functionVars()
	var globalVars map[string]string
	if g.Environment != nil {
		globalVars = g.Environment.Variables
	}
	for k := range globalVars {
		if !slices.Contains(all, k) {
			t.Errorf("Globals: %s is not a configuration variable (shared/config)", k)
		}
	}
	for _, k := range required {
		if _, ok := globalVars[k]; !ok {
			t.Errorf("Globals: required %s is not set", k)
		}
	}

	// One function per function of the route table, each with exactly its
	// routes as HttpApi events on the one HTTP API; the pages function
	// with the page table and the static prefixes; migrate with none.
	fns := tmpl.GetAllServerlessFunctionResources()
	want := map[string]string{} // logical id → function
	for _, name := range allFunctions() {
		want[logicalID(name)] = name
	}
	if got := sorted(fns); !slices.Equal(got, sorted(want)) {
		t.Fatalf("functions = %v, want %v (the route table's, %s and %s)", got, sorted(want), pages.Function, migrateFunction)
	}
	apis := tmpl.GetAllServerlessHttpApiResources()
	if len(apis) != 1 {
		t.Fatalf("want one AWS::Serverless::HttpApi, have %v", sorted(apis))
	}
	api := "ref:" + sorted(apis)[0]

	routedBy := map[string]string{} // route → logical id, across functions
	for _, id := range sorted(fns) {
		fn, name := fns[id], want[id]
		if fn.CodeUri == nil || fn.CodeUri.String == nil || *fn.CodeUri.String != "." {
			t.Errorf("%s: CodeUri must be . (the module root, where make runs)", id)
		}
		if bm := fn.AWSCloudFormationMetadata["BuildMethod"]; bm != "makefile" {
			t.Errorf("%s: Metadata.BuildMethod = %v, want makefile", id, bm)
		}
		if fn.Runtime != nil || fn.Handler != nil || fn.Architectures != nil {
			t.Errorf("%s: Runtime, Handler and Architectures come from Globals only", id)
		}
		for k := range environment(g, fn) {
			if !slices.Contains(all, k) {
				t.Errorf("%s: %s is not a configuration variable (shared/config)", id, k)
			}
		}

		var gotRoutes []string
		for evName, ev := range fn.Events {
			if name == workerFunction && ev.Type == "Schedule" {
				continue // its retries' clock
			}
			if ev.Type != "HttpApi" || ev.Properties == nil || ev.Properties.HttpApiEvent == nil {
				t.Errorf("%s: event %s is not an HttpApi event", id, evName)
				continue
			}
			h := ev.Properties.HttpApiEvent
			if h.Method == nil || h.Path == nil {
				t.Errorf("%s: event %s needs Method and Path", id, evName)
				continue
			}
			route := strings.ToUpper(*h.Method) + " " + *h.Path
			if other, ok := routedBy[route]; ok {
				t.Errorf("%s: %s is already routed to %s", id, route, other)
			}
			routedBy[route] = id
			gotRoutes = append(gotRoutes, route)
			if h.ApiId == nil || *h.ApiId != api {
				t.Errorf("%s: event %s is not on the HTTP API %s", id, evName, strings.TrimPrefix(api, "ref:"))
			}
		}
		slices.Sort(gotRoutes)
		if want := wantEvents(name); !slices.Equal(gotRoutes, want) {
			t.Errorf("%s: HttpApi events %q, want %q", id, gotRoutes, want)
		}

		// EFS for the functions that keep recordings, nothing for the rest.
		var dir string
		if fn.Environment != nil {
			dir = fn.Environment.Variables["UPLOADS_DIR"]
		}
		if !slices.Contains(usesUploads, name) {
			if dir != "" || len(fn.FileSystemConfigs) > 0 {
				t.Errorf("%s: has UPLOADS_DIR or a file system; only %v keep recordings", id, usesUploads)
			}
			continue
		}
		if len(fn.FileSystemConfigs) != 1 {
			t.Errorf("%s: want one FileSystemConfig (EFS for UPLOADS_DIR), have %d", id, len(fn.FileSystemConfigs))
			continue
		}
		fs := fn.FileSystemConfigs[0]
		if fs.Arn == nil || !strings.HasPrefix(*fs.Arn, "getatt:") || !strings.HasSuffix(*fs.Arn, ".Arn") {
			t.Errorf("%s: FileSystemConfigs Arn must be the access point's Arn (!GetAtt <AccessPoint>.Arn)", id)
		} else if ap := strings.TrimSuffix(strings.TrimPrefix(*fs.Arn, "getatt:"), ".Arn"); tmpl.Resources[ap] == nil ||
			tmpl.Resources[ap].AWSCloudFormationType() != "AWS::EFS::AccessPoint" {
			t.Errorf("%s: FileSystemConfigs Arn names %s, which is not an AWS::EFS::AccessPoint", id, ap)
		}
		if fs.LocalMountPath == nil || !strings.HasPrefix(*fs.LocalMountPath, "/mnt/") || dir != *fs.LocalMountPath {
			t.Errorf("%s: UPLOADS_DIR (%q) must be the file system's LocalMountPath under /mnt/", id, dir)
		}
		if g.VpcConfig == nil && fn.VpcConfig == nil {
			t.Errorf("%s: mounts EFS, so it needs a VpcConfig", id)
		}
	}

	// The migrate function seeds the first admin from its parameter.
	if m := fns[logicalID(migrateFunction)]; m != nil {
		if m.Environment == nil || m.Environment.Variables["ADMIN_EMAIL"] != "param:AdminEmail" {
			t.Errorf("%s: ADMIN_EMAIL must be set (from the AdminEmail parameter)", logicalID(migrateFunction))
		}
	}
	for _, out := range []string{"ApiUrl", "MigrateFunctionName"} {
		if _, ok := tmpl.Outputs[out]; !ok {
			t.Errorf("Outputs lacks %s", out)
		}
	}
}

// secrets are the variables that hold secrets, by the key of the Secrets
// Manager secret's JSON that holds each.
var secrets = map[string]string{"DATABASE_URL": "database_url", "MAILERSEND_API_TOKEN": "mailersend_api_token"}

// secretRef is the one way a secret may appear in template.yaml: a dynamic
// reference to a key of the secret a parameter names. (ssm-secure
// references do not resolve in Lambda environment variables.)
var secretRef = regexp.MustCompile(`^\{\{resolve:secretsmanager:\$\{([A-Za-z0-9]+)\}:SecretString:([a-z_]+)\}\}$`)

// TestTemplateSecrets: DATABASE_URL and MAILERSEND_API_TOKEN come only by
// dynamic reference to Secrets Manager, never from a parameter (which
// would hold the secret's value); each function gets only the secrets it
// uses: the pages none, the worker the database and Mailersend, the rest
// only the database.
func TestTemplateSecrets(t *testing.T) {
	tmpl := loadTemplate(t)
	g, err := tmpl.GetServerlessGlobalFunction()
	if err != nil {
		t.Fatalf("Globals.Function: %v", err)
	}
	for name, p := range tmpl.Parameters {
		if p.NoEcho != nil && *p.NoEcho {
			t.Errorf("parameter %s is NoEcho: a secret's value must not be a parameter; name a Secrets Manager secret instead", name)
		}
	}
	if text := readFile(t, "template.yaml"); strings.Contains(text, "resolve:ssm-secure:") {
		t.Errorf("template.yaml uses an ssm-secure dynamic reference, which Lambda environment variables do not take")
	}

	// Where a secret is given, it is the reference to its key.
	check := func(where string, env map[string]string) {
		t.Helper()
		for k, v := range env {
			key, secret := secrets[k]
			if !secret {
				if strings.Contains(v, "{{resolve:") {
					t.Errorf("%s: %s is not a secret but resolves one", where, k)
				}
				continue
			}
			if v == "" {
				continue // withheld from a function that does not use it
			}
			m := secretRef.FindStringSubmatch(v)
			if m == nil {
				t.Errorf("%s: %s = %q, want {{resolve:secretsmanager:${<Parameter>}:SecretString:%s}}", where, k, v, key)
				continue
			}
			if m[2] != key {
				t.Errorf("%s: %s takes the secret's key %q, want %q", where, k, m[2], key)
			}
			if p, ok := tmpl.Parameters[m[1]]; !ok || p.Type != "String" || p.AllowedPattern == nil {
				t.Errorf("%s: %s names the secret by %s, which must be a String parameter with an AllowedPattern", where, k, m[1])
			}
		}
	}
	if g.Environment == nil {
		t.Fatalf("Globals.Function has no Environment")
	}
	check("Globals", g.Environment.Variables)
	if g.Environment.Variables["DATABASE_URL"] == "" {
		t.Errorf("Globals: DATABASE_URL must be given (by dynamic reference) to the functions of the route table")
	}

	fns := tmpl.GetAllServerlessFunctionResources()
	for _, name := range allFunctions() {
		id := logicalID(name)
		fn := fns[id]
		if fn == nil {
			continue // TestTemplate reports it
		}
		if fn.Environment != nil {
			check(id, fn.Environment.Variables)
		}
		env := environment(g, fn)
		var want []string // the secrets the function gets
		switch name {
		case pages.Function:
		case workerFunction: // the only one that mails
			want = []string{"DATABASE_URL", "MAILERSEND_API_TOKEN"}
		default:
			want = []string{"DATABASE_URL"}
		}
		for _, k := range slices.Sorted(maps.Keys(secrets)) {
			if got := env[k] != ""; got != slices.Contains(want, k) {
				t.Errorf("%s: gets %s = %v; want it only where it is used (%s: %v)", id, k, got, name, want)
			}
		}
	}
}

// Lambda's hard limits on a function.
const (
	minMemoryMB, maxMemoryMB = 128, 10240
	maxTimeout               = 900 // s
	maxHTTPTimeout           = 30  // s, an HTTP API's integration
)

// TestTemplateParameters: every parameter is bounded, so a typo fails at
// deploy time rather than in a running function: a number by MinValue and
// MaxValue around its default, a string by allowed values, a pattern or a
// length (an AWS-specific type is checked by CloudFormation itself). And
// with every parameter at either bound, each function stays within
// Lambda's hard limits: memory, timeout (30 s behind the HTTP API).
func TestTemplateParameters(t *testing.T) {
	tmpl := loadTemplate(t)
	if len(tmpl.Parameters) == 0 {
		t.Fatal("template.yaml has no parameters")
	}
	for name, p := range tmpl.Parameters {
		switch {
		case strings.HasPrefix(p.Type, "AWS::") || strings.HasPrefix(p.Type, "List<AWS::"):
		case p.Type == "Number":
			if p.MinValue == nil || p.MaxValue == nil {
				t.Errorf("parameter %s: a Number needs MinValue and MaxValue", name)
				continue
			}
			if p.Default != nil {
				d, err := strconv.ParseFloat(fmt.Sprint(p.Default), 64)
				if err != nil || d < *p.MinValue || d > *p.MaxValue {
					t.Errorf("parameter %s: Default %v is not within %v–%v", name, p.Default, *p.MinValue, *p.MaxValue)
				}
			}
		case p.Type == "String":
			if len(p.AllowedValues) == 0 && p.AllowedPattern == nil && p.MaxLength == nil {
				t.Errorf("parameter %s: a String needs AllowedValues, AllowedPattern or MaxLength", name)
			}
			d, hasDefault := p.Default.(string)
			if p.AllowedPattern != nil && hasDefault && !regexp.MustCompile(*p.AllowedPattern).MatchString(d) {
				t.Errorf("parameter %s: Default %q does not match its AllowedPattern %s", name, d, *p.AllowedPattern)
			}
			if len(p.AllowedValues) > 0 && hasDefault && !slices.Contains(p.AllowedValues, any(d)) {
				t.Errorf("parameter %s: Default %q is not one of %v", name, d, p.AllowedValues)
			}
		default:
			t.Errorf("parameter %s: type %s is not checked here", name, p.Type)
		}
	}

	for _, bound := range []string{"MinValue", "MaxValue"} {
		tmpl := loadTemplateAt(t, bound)
		g, err := tmpl.GetServerlessGlobalFunction()
		if err != nil {
			t.Fatalf("Globals.Function: %v", err)
		}
		for id, fn := range tmpl.GetAllServerlessFunctionResources() {
			memory, timeout := fn.MemorySize, fn.Timeout
			if memory == nil {
				memory = g.MemorySize
			}
			if timeout == nil {
				timeout = g.Timeout
			}
			if memory == nil || *memory < minMemoryMB || *memory > maxMemoryMB {
				t.Errorf("%s with parameters at %s: MemorySize %v, want %d–%d MB", id, bound, deref(memory), minMemoryMB, maxMemoryMB)
			}
			limit := maxTimeout
			for _, ev := range fn.Events {
				if ev.Type == "HttpApi" {
					limit = maxHTTPTimeout
				}
			}
			if timeout == nil || *timeout < 1 || *timeout > limit {
				t.Errorf("%s with parameters at %s: Timeout %v, want 1–%d s", id, bound, deref(timeout), limit)
			}
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// TestSAMBuildTargets: deploy/sam.mk has a build-<LogicalId> target for each
// function of template.yaml (the route table's, pages and migrate) and no
// other, each building that function as
// `sam build` needs it (make -n prints the recipe without running it).
func TestSAMBuildTargets(t *testing.T) {
	root := repoRoot(t)
	text := readFile(t, "deploy/sam.mk")
	var targets []string
	for _, m := range regexp.MustCompile(`(?m)^build-([A-Za-z0-9]+):`).FindAllStringSubmatch(text, -1) {
		targets = append(targets, m[1])
	}
	slices.Sort(targets)
	var want []string
	for _, name := range allFunctions() {
		want = append(want, logicalID(name))
	}
	slices.Sort(want)
	if !slices.Equal(targets, want) {
		t.Errorf("deploy/sam.mk has build targets for %v, want %v", targets, want)
	}

	makePath, err := exec.LookPath("make")
	if err != nil {
		t.Fatalf("make is needed to check deploy/sam.mk: %v", err)
	}
	artifacts := "/artifacts/dir"
	for _, name := range allFunctions() {
		id := logicalID(name)
		cmd := exec.Command(makePath, "-n", "-f", "deploy/sam.mk", "build-"+id, "ARTIFACTS_DIR="+artifacts)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("make -n build-%s: %v\n%s", id, err, out)
			continue
		}
		recipe := string(out)
		for _, part := range []string{
			"GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build",
			"-tags lambda.norpc",
			"-o '" + artifacts + "/bootstrap'",
			"./functions/" + name + "\n",
		} {
			if !strings.Contains(recipe, part) {
				t.Errorf("build-%s runs %q, which lacks %q", id, strings.TrimSpace(recipe), strings.TrimSpace(part))
			}
		}
	}
}

package deploytest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"

	"bandarchive/shared/routes"
)

// loadTemplate reads template.yaml as SAM does. Ref to a resource and
// Fn::GetAtt resolve to "ref:<name>" and "getatt:<name>.<attribute>", so the
// checks can see what points where; Ref to a parameter gives its default.
func loadTemplate(t *testing.T) *cloudformation.Template {
	t.Helper()
	ref := func(name string, input, template any) any {
		if s, ok := input.(string); ok {
			if tm, ok := template.(map[string]any); ok {
				if res, ok := tm["Resources"].(map[string]any); ok && res[s] != nil {
					return "ref:" + s
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
	tmpl, err := goformation.OpenWithOptions(filepath.Join(repoRoot(t), "template.yaml"), &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{"Ref": ref, "Fn::GetAtt": getAtt},
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

	// Environment: configuration variables only, the required ones set,
	// secrets from NoEcho parameters.
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
	for _, p := range []string{"DatabaseUrl", "MailersendApiToken"} {
		if param, ok := tmpl.Parameters[p]; !ok || param.NoEcho == nil || !*param.NoEcho {
			t.Errorf("parameter %s must exist with NoEcho: true", p)
		}
	}

	// One function per function of the route table, each with exactly its
	// routes as HttpApi events on the one HTTP API.
	fns := tmpl.GetAllServerlessFunctionResources()
	want := map[string]string{} // logical id → function
	for _, name := range functions() {
		want[logicalID(name)] = name
	}
	if got := sorted(fns); !slices.Equal(got, sorted(want)) {
		t.Fatalf("functions = %v, want %v", got, sorted(want))
	}
	apis := tmpl.GetAllServerlessHttpApiResources()
	if len(apis) != 1 {
		t.Fatalf("want one AWS::Serverless::HttpApi, have %v", sorted(apis))
	}
	api := "ref:" + sorted(apis)[0]

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

		wantRoutes := map[string]bool{}
		for _, r := range routes.For(name) {
			wantRoutes[r.Method+" "+apiPath(r.Path)] = true
		}
		gotRoutes := map[string]bool{}
		for evName, ev := range fn.Events {
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
			if gotRoutes[route] {
				t.Errorf("%s: %s twice", id, route)
			}
			gotRoutes[route] = true
			if h.ApiId == nil || *h.ApiId != api {
				t.Errorf("%s: event %s is not on the HTTP API %s", id, evName, strings.TrimPrefix(api, "ref:"))
			}
		}
		if got, want := sorted(gotRoutes), sorted(wantRoutes); !slices.Equal(got, want) {
			t.Errorf("%s: HttpApi events %q, want the route table's %q", id, got, want)
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

	if _, ok := tmpl.Outputs["ApiUrl"]; !ok {
		t.Errorf("Outputs lacks ApiUrl")
	}
}

// TestSAMBuildTargets: deploy/sam.mk has a build-<LogicalId> target for each
// function of template.yaml and no other, each building that function as
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
	for _, name := range functions() {
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
	for _, name := range functions() {
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

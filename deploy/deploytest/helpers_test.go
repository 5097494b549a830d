package deploytest

import (
	"bandarchive/shared/app"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"bandarchive/shared/config"
	"bandarchive/shared/pages"
	"bandarchive/shared/routes"
)

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	return root
}

// readFile reads a file of the repository, failing the test if it is missing.
func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return string(b)
}

// functions are the function names of the route table.
func functions() []string { return routes.Functions() }

// migrateFunction is the migrate step as a Lambda function of its own
// (functions/migrate): no route, the operator invokes it.
const migrateFunction = "migrate"

// workerFunction works the job queue: a compose service and a Lambda
// function of its own, with no route.
const workerFunction = app.WorkerName

// allFunctions are the directories under functions/ and the functions of
// template.yaml: the route table's, the pages function (which serves the
// page table on AWS, where Nginx does not), migrate and the worker. The
// route table's and the worker run in the compose stacks.
func allFunctions() []string {
	return append(functions(), pages.Function, migrateFunction, workerFunction)
}

// running are the compose services that run a function binary for good:
// the route table's functions and the worker.
func running() []string { return append(functions(), workerFunction) }

// isFunction reports whether name is a function of the route table.
func isFunction(name string) bool { return slices.Contains(functions(), name) }

// camel turns a function name into CamelCase: "send-link" → "SendLink".
func camel(name string) string {
	var b strings.Builder
	for part := range strings.FieldsFuncSeq(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// logicalID is a function's resource name in template.yaml and its target
// suffix in deploy/sam.mk: "send-link" → "SendLinkFunction".
func logicalID(function string) string { return camel(function) + "Function" }

// imageVar is a function's image variable in the compose files:
// "send-link" → "SEND_LINK_IMAGE".
func imageVar(function string) string {
	return strings.ToUpper(strings.ReplaceAll(function, "-", "_")) + "_IMAGE"
}

// configVars lists the environment variables a config struct reads, and
// which of them are required.
func configVars(t reflect.Type) (all, required []string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("env")
		if tag == "" && f.Type.Kind() == reflect.Struct {
			a, r := configVars(f.Type)
			all, required = append(all, a...), append(required, r...)
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			continue
		}
		all = append(all, name)
		if slices.Contains(strings.Split(opts, ","), "required") {
			required = append(required, name)
		}
	}
	return all, required
}

// functionVars are the variables of config.Config; migrateVars those of the
// migrate step.
func functionVars() (all, required []string) { return configVars(reflect.TypeFor[config.Config]()) }
func migrateVars() (all, required []string)  { return configVars(reflect.TypeFor[config.Migrate]()) }

// sorted returns the keys of a set, sorted.
func sorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

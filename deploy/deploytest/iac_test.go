package deploytest

import (
	"bufio"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// appDomains are the domains of .iac/iac.yml, sorted.
func appDomains(t *testing.T) []string {
	t.Helper()
	var app struct {
		AppDomains []string `yaml:"app_domains"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, ".iac/iac.yml")), &app); err != nil {
		t.Fatalf(".iac/iac.yml: %v", err)
	}
	slices.Sort(app.AppDomains)
	return app.AppDomains
}

// TestIACAppFile: the platform's app file is plain YAML with image_name and
// app_domains and nothing else.
func TestIACAppFile(t *testing.T) {
	var app map[string]any
	if err := yaml.Unmarshal([]byte(readFile(t, ".iac/iac.yml")), &app); err != nil {
		t.Fatalf(".iac/iac.yml: %v", err)
	}
	if got := sorted(app); !slices.Equal(got, []string{"app_domains", "image_name"}) {
		t.Errorf(".iac/iac.yml keys = %v, want exactly app_domains and image_name", got)
	}
	if name, _ := app["image_name"].(string); !regexp.MustCompile(`^[a-z0-9]+([._/-][a-z0-9]+)*$`).MatchString(name) {
		t.Errorf("image_name = %v, want an image name without tag", app["image_name"])
	}
	domains := appDomains(t)
	if len(domains) == 0 {
		t.Errorf("app_domains is empty")
	}
	for _, d := range domains {
		if !regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$`).MatchString(d) {
			t.Errorf("app_domains: %q is not a host name", d)
		}
	}
}

// TestIACBackup: restic keeps a PostgreSQL dump of db and a tar of the
// uploads volume, which together are all the data of the stack.
func TestIACBackup(t *testing.T) {
	var backup struct {
		Retention map[string]int `yaml:"retention"`
		Postgres  []struct {
			Service string `yaml:"service"`
			UserEnv string `yaml:"user_env"`
			DBEnv   string `yaml:"db_env"`
		} `yaml:"postgres"`
		Volumes []struct {
			Service string `yaml:"service"`
			Path    string `yaml:"path"`
		} `yaml:"volumes"`
	}
	dec := yaml.NewDecoder(strings.NewReader(readFile(t, ".iac/backup.yml")))
	dec.KnownFields(true)
	if err := dec.Decode(&backup); err != nil {
		t.Fatalf(".iac/backup.yml: %v", err)
	}
	for _, k := range []string{"keep_daily", "keep_weekly", "keep_monthly"} {
		if backup.Retention[k] <= 0 {
			t.Errorf("retention.%s = %d, want a positive number", k, backup.Retention[k])
		}
	}

	p := mustLoadCompose(t, iacCompose, iacEnv())
	services := allServices(p)
	secrets := sopsEnvKeys(t)
	covered := map[string]bool{} // named volumes with a backup

	if len(backup.Postgres) != 1 || backup.Postgres[0].Service != "db" {
		t.Fatalf("postgres = %+v, want one dump of the db service", backup.Postgres)
	}
	pg := backup.Postgres[0]
	for _, k := range []string{pg.UserEnv, pg.DBEnv} {
		// The backup reads them from the deployed .env, not from compose.
		if !slices.Contains(secrets, k) {
			t.Errorf("postgres names %q, which .iac/.env does not hold", k)
		}
	}
	if pg.UserEnv != "POSTGRES_USER" || pg.DBEnv != "POSTGRES_DB" {
		t.Errorf("postgres user_env/db_env = %s/%s, want the db service's POSTGRES_USER/POSTGRES_DB", pg.UserEnv, pg.DBEnv)
	}
	for _, m := range services["db"].Volumes {
		covered[m.Source] = true
	}

	for _, v := range backup.Volumes {
		s, ok := services[v.Service]
		if !ok {
			t.Errorf("volumes: no service %q in %s", v.Service, iacCompose)
			continue
		}
		found := false
		for _, m := range s.Volumes {
			if m.Target == v.Path && m.Type == "volume" {
				found, covered[m.Source] = true, true
			}
		}
		if !found {
			t.Errorf("volumes: %s does not mount a named volume at %s", v.Service, v.Path)
		}
		if isFunction(v.Service) || v.Service == "nginx" {
			t.Errorf("volumes: back up through %s, not %s (a `docker compose run` of it would join its networks and Traefik)", uploadsAdmin, v.Service)
		}
		checkBackupService(t, v.Service, s, v.Path)
	}
	for name := range p.Volumes {
		if !covered[name] {
			t.Errorf("the named volume %s has no backup in .iac/backup.yml", name)
		}
	}
}

// checkBackupService holds the service a volumes entry of .iac/backup.yml
// names to what the platform does with it:
//
//	backup:  docker compose run --rm -T -v <staging>:/backup-out:rw <service> \
//	           sh -c "tar cf /backup-out/<service>_<slug>.tar -C <path> ."
//	restore: docker compose cp <dir>/. <service>:<path>/
//
// The staging folder is root's, mode 0755: only root writes there. The
// restore copies into a running container of the service, and Docker
// refuses to copy into a read-only volume. TestUploadsSurviveBackupAndRestore
// performs both, and what follows a restore, without Docker.
func checkBackupService(t *testing.T, name string, s types.ServiceConfig, path string) {
	t.Helper()
	if uid, _, _ := strings.Cut(s.User, ":"); uid != "0" && uid != "root" {
		t.Errorf("%s: user = %q; the backup's tar runs as it and must write to a root-owned 0755 /backup-out: want \"0:0\"", name, s.User)
	}
	if len(s.Profiles) > 0 {
		t.Errorf("%s: in profiles %v, so `up` does not start it; a restore copies into its running container", name, s.Profiles)
	}
	if s.Restart != types.RestartPolicyUnlessStopped && s.Restart != types.RestartPolicyAlways {
		t.Errorf("%s: restart = %q; it must keep running for restores (unless-stopped)", name, s.Restart)
	}
	if len(s.Command) == 0 || s.Command[0] != uploadsAdminCommand {
		t.Errorf("%s: command = %q, want [%s] (a long-running process that gives restored files back)", name, s.Command, uploadsAdminCommand)
	}
	if len(s.DependsOn) > 0 {
		t.Errorf("%s: depends on %v; `docker compose run` of it would start those too", name, sorted(s.DependsOn))
	}
	if s.NetworkMode != "none" {
		t.Errorf("%s: network_mode = %q, want none (it only reads and writes the volume)", name, s.NetworkMode)
	}
	for _, m := range s.Volumes {
		if m.Target == path && m.ReadOnly {
			t.Errorf("%s mounts %s read-only; docker compose cp refuses to restore into it", name, path)
		}
	}
}

// sopsEnvKeys are the keys of .iac/.env, after checking that the file is in
// SOPS's dotenv format with every value encrypted.
func sopsEnvKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	meta := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(readFile(t, ".iac/.env")))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(k) {
			t.Fatalf(".iac/.env:%d is not KEY=VALUE: %q", n, line)
		}
		if strings.HasPrefix(k, "sops_") {
			meta[k] = v
			continue
		}
		if !strings.HasPrefix(v, "ENC[AES256_GCM,") || !strings.HasSuffix(v, "]") {
			t.Errorf(".iac/.env: %s is not encrypted (the file must only ever hold SOPS output)", k)
		}
		keys = append(keys, k)
	}
	for _, k := range []string{"sops_mac", "sops_version", "sops_lastmodified"} {
		if meta[k] == "" {
			t.Errorf(".iac/.env lacks SOPS's %s", k)
		}
	}
	if !slices.ContainsFunc(sorted(meta), func(k string) bool { return strings.HasPrefix(k, "sops_age__") }) {
		t.Errorf(".iac/.env has no age recipient")
	}
	return keys
}

// TestIACSecrets: .iac/.env is SOPS-encrypted, holds every variable the
// .iac stack requires besides IMAGE (which the platform adds), and
// .iac/.sops.yaml has a rule for it.
func TestIACSecrets(t *testing.T) {
	keys := sopsEnvKeys(t)
	for _, k := range requiredVars(t, iacCompose) {
		if k != "IMAGE" && !slices.Contains(keys, k) {
			t.Errorf(".iac/.env lacks %s, which %s requires", k, iacCompose)
		}
	}

	var sops struct {
		CreationRules []struct {
			PathRegex string `yaml:"path_regex"`
			Age       string `yaml:"age"`
		} `yaml:"creation_rules"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, ".iac/.sops.yaml")), &sops); err != nil {
		t.Fatalf(".iac/.sops.yaml: %v", err)
	}
	matched := false
	for _, r := range sops.CreationRules {
		re, err := regexp.Compile(r.PathRegex)
		if err != nil {
			t.Errorf(".iac/.sops.yaml: path_regex %q: %v", r.PathRegex, err)
			continue
		}
		if re.MatchString(".env") && re.MatchString("/srv/app/.iac/.env") {
			matched = true
			if !strings.HasPrefix(r.Age, "age1") {
				t.Errorf(".iac/.sops.yaml: the rule for .env has no age recipient")
			}
		}
	}
	if !matched {
		t.Errorf(".iac/.sops.yaml has no creation rule for .env")
	}
}

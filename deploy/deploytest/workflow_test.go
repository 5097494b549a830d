package deploytest

import (
	"maps"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

const (
	buildWorkflow = ".github/workflows/build-and-push.yml"
	// platformWorkflow is the IAC platform's reusable build: it builds
	// ./Dockerfile (context .) for linux/amd64 and linux/arm64 and pushes
	// <REGISTRY_URL>/<IMAGE_NAME>:<sha7>. It takes IMAGE_NAME as an input,
	// defaulting to the repository variable IMAGE_NAME, then to
	// github.repository (owner/repo).
	platformWorkflow = "rednaw/iac/.github/workflows/_build-and-push.yml@main"
)

// workflow is what this test reads of a GitHub Actions workflow.
type workflow struct {
	On struct {
		Push *struct {
			Branches []string `yaml:"branches"`
		} `yaml:"push"`
		// Any other trigger: a pull request must not push an image.
		Other map[string]yaml.Node `yaml:",inline"`
	} `yaml:"on"`
	Permissions yaml.Node `yaml:"permissions"`
	Jobs        map[string]struct {
		Uses        string            `yaml:"uses"`
		Permissions map[string]string `yaml:"permissions"`
		With        map[string]string `yaml:"with"`
		Secrets     yaml.Node         `yaml:"secrets"`
	} `yaml:"jobs"`
}

// TestBuildWorkflow: pushes to main build the image with the platform's
// reusable workflow, under the name the deploy looks it up by.
func TestBuildWorkflow(t *testing.T) {
	var wf workflow
	if err := yaml.Unmarshal([]byte(readFile(t, buildWorkflow)), &wf); err != nil {
		t.Fatalf("%s: %v", buildWorkflow, err)
	}

	if wf.On.Push == nil || !slices.Equal(wf.On.Push.Branches, []string{"main"}) {
		t.Errorf("%s: want on: push: branches: [main]", buildWorkflow)
	}
	if len(wf.On.Other) > 0 {
		t.Errorf("%s: triggers %v besides pushes to main; only main's commits become images", buildWorkflow, slices.Sorted(maps.Keys(wf.On.Other)))
	}
	// The top level grants nothing (or is absent): the job says what it needs.
	if p := wf.Permissions; p.Kind != 0 && !(p.Kind == yaml.MappingNode && len(p.Content) == 0) {
		t.Errorf("%s: top-level permissions grant something; leave it to the job", buildWorkflow)
	}

	if len(wf.Jobs) != 1 {
		t.Fatalf("%s: jobs %v, want one that calls the platform's workflow", buildWorkflow, slices.Sorted(maps.Keys(wf.Jobs)))
	}
	for name, job := range wf.Jobs {
		if job.Uses != platformWorkflow {
			t.Errorf("job %s: uses %q, want %s", name, job.Uses, platformWorkflow)
		}
		if want := map[string]string{"contents": "read", "packages": "write"}; !maps.Equal(job.Permissions, want) {
			t.Errorf("job %s: permissions = %v, want %v (what the reusable job declares)", name, job.Permissions, want)
		}

		var secrets map[string]string
		if err := job.Secrets.Decode(&secrets); err != nil {
			t.Errorf("job %s: secrets must name each secret (not inherit: every secret of the repository): %v", name, err)
		}
		for _, k := range []string{"REGISTRY_USERNAME", "REGISTRY_PASSWORD"} {
			if want := "${{ secrets." + k + " }}"; secrets[k] != want {
				t.Errorf("job %s: secrets.%s = %q, want %q", name, k, secrets[k], want)
			}
		}
		if extra := slices.DeleteFunc(slices.Sorted(maps.Keys(secrets)), func(k string) bool {
			return k == "REGISTRY_USERNAME" || k == "REGISTRY_PASSWORD"
		}); len(extra) > 0 {
			t.Errorf("job %s: passes secrets %v, which the platform's workflow does not take", name, extra)
		}

		// The deploy resolves <registry>/<image_name>:<sha7> with
		// .iac/iac.yml's image_name; unset, the reusable workflow would
		// push under owner/repo instead.
		if got, want := job.With["IMAGE_NAME"], iacImageName(t); got != want {
			t.Errorf("job %s: with.IMAGE_NAME = %q, want .iac/iac.yml's image_name %q", name, got, want)
		}
		for k := range job.With {
			if k != "IMAGE_NAME" && k != "REGISTRY_URL" {
				t.Errorf("job %s: with.%s is not an input of the platform's workflow", name, k)
			}
		}
	}

	// The workflow builds ./Dockerfile with the context .: it must be there.
	readFile(t, dockerfile)
}

// iacImageName is .iac/iac.yml's image_name.
func iacImageName(t *testing.T) string {
	t.Helper()
	var app struct {
		ImageName string `yaml:"image_name"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, ".iac/iac.yml")), &app); err != nil {
		t.Fatalf(".iac/iac.yml: %v", err)
	}
	return app.ImageName
}

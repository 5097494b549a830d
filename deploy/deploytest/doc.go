// Package deploytest holds the static checks of the deployment files: the
// compose files (docker-compose.yml, .iac/docker-compose.yml: services,
// healthchecks, hardening), the IAC platform's contract (.iac/ and
// .github/workflows/build-and-push.yml), template.yaml with deploy/sam.mk,
// and the Dockerfile at the root. They read the files as Docker Compose, AWS
// SAM and GitHub Actions would (compose-go, goformation, YAML) and hold them
// to the route table in shared/routes and the variables in shared/config;
// one test builds a Lambda bootstrap with the SAM recipe, and one, as root,
// takes the uploads through the platform's backup and restore without
// Docker (restore_test.go). The package has no code of its own.
package deploytest

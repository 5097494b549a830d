// Package deploytest holds the static checks of the deployment files: the
// compose files (docker-compose.yml, .iac/docker-compose.yml), the IAC
// platform's contract (.iac/), template.yaml with deploy/sam.mk, and
// deploy/Dockerfile. They read the files as Docker Compose and AWS SAM would
// (compose-go, goformation) and hold them to the route table in
// shared/routes and the variables in shared/config; one test builds a Lambda
// bootstrap with the SAM recipe. The package has no code of its own.
package deploytest

# AWS SAM builds, included by the Makefile. template.yaml marks every function
# `BuildMethod: makefile`, so `sam build` runs `make build-<LogicalId>` with
# ARTIFACTS_DIR set; each target below writes that function's `bootstrap` for
# the provided.al2023 runtime on arm64. One target per function of the route
# table (shared/routes), and for the functions beside it: pages (the page
# table), migrate and worker; deploy/deploytest checks that template.yaml, these
# targets and the tables agree.

SAM_GO_BUILD = GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w'

# $(call sam_build,<function>): build functions/<function> as a bootstrap.
sam_build = $(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set: sam build sets it, or pass ARTIFACTS_DIR=<dir>))$(SAM_GO_BUILD) -o '$(ARTIFACTS_DIR)/bootstrap' ./functions/$(1)

.PHONY: build-SendLinkFunction build-VerifyFunction build-SessionFunction build-InvitesFunction \
	build-UploadFunction build-RecordingsFunction build-ScoresFunction build-BandFunction build-PagesFunction \
	build-MigrateFunction build-WorkerFunction sam-build-check

build-SendLinkFunction:
	$(call sam_build,send-link)

build-WorkerFunction:
	$(call sam_build,worker)

build-VerifyFunction:
	$(call sam_build,verify)

build-SessionFunction:
	$(call sam_build,session)

build-InvitesFunction:
	$(call sam_build,invites)

build-UploadFunction:
	$(call sam_build,upload)

build-RecordingsFunction:
	$(call sam_build,recordings)

build-ScoresFunction:
	$(call sam_build,scores)

build-BandFunction:
	$(call sam_build,band)

build-PagesFunction:
	$(call sam_build,pages)

build-MigrateFunction:
	$(call sam_build,migrate)

sam-build-check: ## Build one Lambda bootstrap (linux/arm64) with the sam build recipe, to prove it links
	@set -e; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) build-SessionFunction ARTIFACTS_DIR="$$dir"; \
	go version -m "$$dir/bootstrap" | grep -q 'GOARCH=arm64'; \
	echo "sam-build-check: the session bootstrap is a linux/arm64 binary of $$(du -h "$$dir/bootstrap" | cut -f1)"

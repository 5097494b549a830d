SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PORT ?= 8080
BENCH_UPLOAD_MB ?= 500
BASE_URL ?= http://localhost:$(PORT)
COOKIE_SECURE ?= false
UPLOADS_DIR ?= .data/uploads
ADMIN_EMAIL ?= admin@localhost.test

# DATABASE_URL from the environment (or the command line) wins; otherwise the
# project-local cluster that scripts/pg.sh runs. CI and the rest of the
# environment reach the commands unchanged.
WITH_DB = DATABASE_URL="$${DATABASE_URL:-$$(scripts/pg.sh url)}"

# Go files outside hidden directories: .data holds the cluster and uploads.
GO_FILES = find . -path './.*' -prune -o -path ./bin -prune -o -type f -name '*.go' -print

.PHONY: help dev stack test bench migrate build fmt vet clean clean-data pg-start pg-stop backup restore deploy

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

dev: pg-start ## Run the whole archive locally (local PostgreSQL, mails in the log)
	@echo "The archive will be at $(BASE_URL); with no MAILERSEND_API_TOKEN, sign-in links are printed in this log."
	$(WITH_DB) PORT='$(PORT)' BASE_URL='$(BASE_URL)' COOKIE_SECURE='$(COOKIE_SECURE)' \
		UPLOADS_DIR='$(UPLOADS_DIR)' ADMIN_EMAIL='$(ADMIN_EMAIL)' go run ./local serve

stack: pg-start ## Run the production topology without Docker: each function its own process, Nginx in front
	@echo "The archive will be at $(BASE_URL), behind Nginx; with no MAILERSEND_API_TOKEN, sign-in links are in .data/stack/logs/worker.log."
	$(WITH_DB) PORT='$(PORT)' BASE_URL='$(BASE_URL)' COOKIE_SECURE='$(COOKIE_SECURE)' \
		ADMIN_EMAIL='$(ADMIN_EMAIL)' go run ./local stack

test: pg-start ## Vet, check formatting and run every test against real PostgreSQL
	go vet ./...
	@unformatted=$$($(GO_FILES) | xargs -r gofmt -l); \
	if [[ -n $$unformatted ]]; then \
		echo "gofmt wants to change these files (run make fmt):"; echo "$$unformatted"; exit 1; \
	fi
	$(WITH_DB) go test -count=1 -timeout 20m ./...

bench: pg-start ## Run the benchmarks against real PostgreSQL (figures: README, Performance)
	$(WITH_DB) go test -run '^$$' -bench SendLink -benchtime 400x -count 3 ./local/
	$(WITH_DB) go test -run '^$$' -bench ListByScore -benchtime 3000x -count 3 ./local/
	$(WITH_DB) go run ./local/archivebench -recordings 2000 -loads 9 -rounds 40
	$(WITH_DB) go run ./local/uploadbench -mb $(BENCH_UPLOAD_MB) -runs 3 -tus-mib 1,4,8,16
	$(WITH_DB) go run ./local/uploadbench -transcode -mb $(BENCH_UPLOAD_MB) -runs 3

backup: ## Back up a Docker Compose installation (database and uploads) into BACKUP_DIR (default backups/<UTC time>)
	scripts/backup.sh "$${BACKUP_DIR:-backups/$$(date -u +%Y%m%dT%H%M%SZ)}"

restore: ## Restore a backup made by make backup into the Docker Compose installation: BACKUP_DIR=... (the archive stops meanwhile)
	@test -n "$(BACKUP_DIR)" || { echo "make restore needs BACKUP_DIR=<a folder made by make backup>"; exit 2; }
	scripts/restore.sh "$(BACKUP_DIR)"

deploy: ## Deploy one service of a Docker Compose installation: FN=<service> IMAGE=<image> [DRY_RUN=1]
	DRY_RUN='$(DRY_RUN)' scripts/deploy.sh '$(FN)' '$(IMAGE)'

migrate: pg-start ## Apply the database migrations
	$(WITH_DB) go run ./local migrate

build: ## Build every function and the local tool into bin/
	go build -o bin/ ./functions/... ./local

fmt: ## Format the Go code
	$(GO_FILES) | xargs -r gofmt -w

vet: ## Run go vet
	go vet ./...

clean: pg-stop ## Remove build output and stop the local PostgreSQL (data is kept)
	rm -rf bin/

clean-data: clean ## Also delete the local PostgreSQL cluster and uploads
	scripts/pg.sh destroy
	rm -rf .data/

pg-start: ## Start the project-local PostgreSQL (nothing when DATABASE_URL is set)
	@scripts/pg.sh start

pg-stop: ## Stop the project-local PostgreSQL
	@scripts/pg.sh stop

# AWS SAM builds (sam build runs make build-<LogicalId>).
include deploy/sam.mk

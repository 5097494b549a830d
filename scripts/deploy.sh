#!/usr/bin/env bash
# deploy.sh SERVICE IMAGE: deploys one service of a plain Docker Compose
# installation (docker-compose.yml) from IMAGE, leaving the others as they
# run. `make deploy FN=upload IMAGE=registry.example.org/bandarchive:abc1234`
# runs it; with DRY_RUN=1 it prints what it would do and changes nothing.
#
#   1. writes <SERVICE>_IMAGE=IMAGE into .env (ENV_FILE), so the next
#      `docker compose up` keeps the service on IMAGE;
#   2. runs the migrate step from IMAGE (a no-op unless IMAGE brings a
#      migration; the others keep running on a schema newer than theirs
#      while its migrations are marked compatible, README: Database and
#      migrations);
#   3. recreates only SERVICE from IMAGE (--no-deps), pulling IMAGE when
#      it is not here yet, and waits until it is healthy.
#
# SERVICE is a function of the route table, the worker or nginx.
set -euo pipefail

services=(send-link verify session invites upload recordings scores band worker nginx)
service=${1:-}
image=${2:-}
env_file=${ENV_FILE:-.env}
docker=${DOCKER:-docker}

usage() {
	printf 'usage: make deploy FN=<service> IMAGE=<image> [DRY_RUN=1]\n  services: %s\n' "${services[*]}" >&2
	exit 2
}
[[ -n $service && -n $image ]] || usage
known=
for s in "${services[@]}"; do [[ $s == "$service" ]] && known=1; done
if [[ -z $known ]]; then
	printf 'deploy: %s is not a service that deploys alone\n' "$service" >&2
	usage
fi
if [[ $image =~ [[:space:]] ]]; then
	printf 'deploy: %q is not an image reference\n' "$image" >&2
	exit 2
fi
var=$(printf '%s' "$service" | tr 'a-z-' 'A-Z_')_IMAGE

steps=(
	"$docker compose run --rm --no-deps migrate"
	"$docker compose up -d --no-deps --pull missing --wait $service"
)
if [[ -n ${DRY_RUN:-} ]]; then
	echo "would set $var=$image in $env_file"
	for s in "${steps[@]}"; do echo "would run: IMAGE=$image $s"; done
	exit 0
fi

# Replace the variable's line, or add one; the rest of the file stays.
touch "$env_file"
tmp=$(mktemp "$env_file.XXXXXX")
grep -v "^$var=" "$env_file" >"$tmp" || true
printf '%s=%s\n' "$var" "$image" >>"$tmp"
mv "$tmp" "$env_file"
echo "deploy: $var=$image in $env_file"

for s in "${steps[@]}"; do
	echo "deploy: $s"
	IMAGE=$image $s
done
echo "deploy: $service runs $image"

#!/usr/bin/env bash
# A project-local PostgreSQL for development and tests: one cluster per
# checkout, on its own port, so it never collides with a system server and can
# be thrown away with `make clean-data`.
#
#   scripts/pg.sh start    create the cluster if needed, start it, create the database
#   scripts/pg.sh stop     stop it
#   scripts/pg.sh status   say whether it runs (exit 3 when it does not)
#   scripts/pg.sh url      print its DATABASE_URL
#   scripts/pg.sh destroy  stop it and delete its data directory
#
# Environment:
#   DATABASE_URL  when set, `start` does nothing: that server is used instead
#   PGPORT        TCP port on 127.0.0.1 (default 54329)
#   PGDATA_DIR    data directory (default .data/postgres; relative to the repo root)
set -euo pipefail

# The postgres user has to traverse the directories this script creates.
umask 022

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
port=${PGPORT:-54329}
dbname=bandarchive
superuser=postgres

say() { printf 'pg.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[[ $port =~ ^[0-9]+$ ]] || die "PGPORT must be a number, got '$port'"

url() {
	printf 'postgres://%s@127.0.0.1:%s/%s?sslmode=disable\n' "$superuser" "$port" "$dbname"
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# initdb refuses to run as root, so as root every server command runs as the
# postgres system user, from / because it may not be allowed into the cwd.
as_owner() {
	if ! is_root; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && su postgres -s /bin/bash -c "$(printf '%q ' "$@")")
	fi
}

# Prints the directory holding initdb and pg_ctl, or nothing.
find_bindir() {
	local dir
	if command -v pg_config >/dev/null 2>&1; then
		dir=$(pg_config --bindir 2>/dev/null || true)
		# libpq-dev's pg_config may point at a directory without the server.
		if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
			printf '%s\n' "$dir"
			return
		fi
	fi
	# Debian keeps the server binaries off PATH, one directory per major version.
	dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
		printf '%s\n' "$dir"
		return
	fi
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
	fi
}

bindir=$(find_bindir)

require_server() {
	[[ -n $bindir ]] || die "no PostgreSQL server binaries found (initdb, pg_ctl); install the postgresql package (apt-get install postgresql)"
	if is_root; then
		id postgres >/dev/null 2>&1 || die "running as root needs the postgres system user; install the postgresql package"
	fi
}

# Sets datadir. As root, the default lives in the repo only if the postgres
# user can reach it (a checkout under /root usually is not reachable); else it
# moves to /tmp under a name derived from the repo path, so it stays stable.
resolve_datadir() {
	if [[ -n ${PGDATA_DIR:-} ]]; then
		case $PGDATA_DIR in
		/*) datadir=$PGDATA_DIR ;;
		*) datadir=$repo_root/$PGDATA_DIR ;;
		esac
		return
	fi
	datadir=$repo_root/.data/postgres
	if is_root && id postgres >/dev/null 2>&1 && ! as_owner test -x "$repo_root" 2>/dev/null; then
		datadir=/tmp/bandarchive-pg-$(printf '%s' "$repo_root" | sha256sum | cut -c1-12)
		fallback=1
	fi
}

fallback=0
resolve_datadir

# Unix socket paths are limited to about 100 bytes; the data dir is the natural
# place for the socket, /tmp when the data dir path is too long.
socket_dir() {
	local name=/.s.PGSQL.$port
	if ((${#datadir} + ${#name} < 100)); then
		printf '%s\n' "$datadir"
	else
		printf '/tmp\n'
	fi
}

conninfo() {
	printf 'host=127.0.0.1 port=%s user=%s dbname=%s sslmode=disable connect_timeout=5' "$port" "$superuser" "$1"
}

psql_cmd() {
	if [[ -x $bindir/psql ]]; then "$bindir/psql" "$@"; else psql "$@"; fi
}

initialised() { [[ -f $datadir/PG_VERSION ]]; }

running() {
	[[ -n $bindir ]] && initialised && as_owner "$bindir/pg_ctl" status -D "$datadir" >/dev/null 2>&1
}

# The port of the running cluster, from line 4 of postmaster.pid.
running_port() {
	as_owner sed -n 4p "$datadir/postmaster.pid" 2>/dev/null || true
}

# Serialises start/stop/destroy: `make dev` and `make test` may race.
take_lock() {
	command -v flock >/dev/null 2>&1 || return 0
	mkdir -p "$(dirname "$datadir")"
	exec 9>"$datadir.lock"
	flock -w 120 9 || die "another pg.sh holds $datadir.lock"
}

escape_conf() { printf '%s' "${1//\'/\'\'}"; }

init_cluster() {
	local locale_opt=--no-locale
	# C.UTF-8 sorts by code point like C but knows Unicode case mapping
	# (lower() on accented names); not every system has it.
	if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
		locale_opt=--locale=C.UTF-8
	fi
	say "creating a cluster in $datadir"
	as_owner "$bindir/initdb" -D "$datadir" -A trust -U "$superuser" -E UTF8 "$locale_opt" >"$datadir.initdb.log" 2>&1 || {
		cat "$datadir.initdb.log" >&2
		die "initdb failed"
	}
	rm -f "$datadir.initdb.log"
}

# The settings live in their own file, rewritten on every start, so PGPORT and
# the socket path can change without editing postgresql.conf by hand.
write_config() {
	local conf=$datadir/postgresql.conf
	if ! as_owner grep -q "^include_if_exists = 'bandarchive.conf'" "$conf"; then
		printf "\ninclude_if_exists = 'bandarchive.conf'\n" | as_owner tee -a "$conf" >/dev/null
	fi
	{
		printf '# Written by scripts/pg.sh on every start; change the script, not this file.\n'
		printf "listen_addresses = '127.0.0.1'\n"
		printf 'port = %s\n' "$port"
		printf "unix_socket_directories = '%s'\n" "$(escape_conf "$(socket_dir)")"
		printf 'max_connections = 200\n'
		if [[ -n ${CI:-} ]]; then
			# A CI cluster is thrown away with the machine: durability buys nothing.
			printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
		fi
	} | as_owner tee "$datadir/bandarchive.conf" >/dev/null
}

wait_ready() {
	local i
	for ((i = 0; i < 60; i++)); do
		if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -d "$dbname" -U "$superuser"; then
			return 0
		fi
		sleep 0.5
	done
	return 1
}

ensure_database() {
	local exists
	exists=$(psql_cmd -X -q -t -A -v ON_ERROR_STOP=1 -d "$(conninfo postgres)" \
		-c "select 1 from pg_database where datname = '$dbname'")
	if [[ $exists != 1 ]]; then
		psql_cmd -X -q -v ON_ERROR_STOP=1 -d "$(conninfo postgres)" -c "create database $dbname" >/dev/null
		say "created database $dbname"
	fi
}

cmd_start() {
	if [[ -n ${DATABASE_URL:-} ]]; then
		# Hide a password: this line ends up in CI logs.
		say "DATABASE_URL is set; using it, not starting a local cluster"
		printf '%s\n' "$DATABASE_URL" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#'
		return 0
	fi
	require_server
	if ((fallback)); then
		say "the postgres user cannot reach $repo_root; using $datadir instead"
	fi
	take_lock

	if running; then
		local current
		current=$(running_port)
		[[ $current == "$port" ]] || die "the cluster in $datadir already runs on port $current, not $port; run scripts/pg.sh stop first"
		say "already running on 127.0.0.1:$port (data in $datadir)"
		ensure_database
		return 0
	fi

	# Another server on our port would make the start fail with a vaguer error.
	if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 >/dev/null 2>&1; then
		die "another server already listens on 127.0.0.1:$port; set PGPORT to another port or stop it"
	fi

	mkdir -p "$datadir"
	if is_root; then
		# Only the search bit: postgres needs to pass through .data, not list it.
		[[ -n ${PGDATA_DIR:-} ]] || chmod o+x "$(dirname "$datadir")"
		[[ $(stat -c %U "$datadir") == postgres ]] || chown -R postgres:postgres "$datadir"
	fi
	initialised || init_cluster
	write_config

	local log=$datadir/postgres.log
	say "starting PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port (data in $datadir, log in $log)"
	# 9>&-: the server must not inherit the lock, or it would hold it forever.
	if ! as_owner "$bindir/pg_ctl" start -D "$datadir" -l "$log" -w -t 60 -s 9>&-; then
		as_owner tail -n 20 "$log" >&2 || true
		die "PostgreSQL did not start; see $log"
	fi
	wait_ready || die "PostgreSQL started but does not accept connections; see $log"
	ensure_database
	say "ready: $(url)"
}

cmd_stop() {
	take_lock
	if ! running; then
		say "not running (data in $datadir)"
		return 0
	fi
	as_owner "$bindir/pg_ctl" stop -D "$datadir" -m fast -w -t 60 -s
	say "stopped (data kept in $datadir)"
}

cmd_status() {
	if running; then
		say "running on 127.0.0.1:$(running_port) (data in $datadir)"
		url
		return 0
	fi
	if initialised; then
		say "not running (data in $datadir)"
	else
		say "no cluster yet ($datadir); scripts/pg.sh start creates one"
	fi
	return 3
}

cmd_destroy() {
	cmd_stop
	if [[ ! -d $datadir ]]; then
		return 0
	fi
	# Refuse to delete a directory that is not a cluster: PGDATA_DIR may be wrong.
	if ! initialised && [[ -n $(ls -A "$datadir") ]]; then
		die "$datadir does not look like a PostgreSQL data directory; not deleting it"
	fi
	rm -rf -- "$datadir"
	rm -f -- "$datadir.lock"
	say "deleted $datadir"
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
url) url ;;
destroy) cmd_destroy ;;
*)
	printf 'usage: %s start|stop|status|url|destroy\n' "$0" >&2
	exit 2
	;;
esac

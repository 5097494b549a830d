#!/bin/sh
# uploads-admin: keeps the uploads volume owned by the app user. The image
# carries it as /usr/local/bin/uploads-admin; the uploads-admin service of
# both compose files runs it as root with the capabilities CHOWN and
# DAC_READ_SEARCH and nothing else.
#
#   uploads-admin          fix, then fix again every UPLOADS_FIX_INTERVAL
#                          seconds until stopped (the service's command)
#   uploads-admin fix      fix once and exit
#   uploads-admin check    exit 0 when everything below UPLOADS_DIR belongs to
#                          APP_UID:APP_GID (the service's healthcheck)
#
# "Fix" gives every file and folder below UPLOADS_DIR (and UPLOADS_DIR
# itself) that is not owned by APP_UID:APP_GID to that owner, without
# following symbolic links. Nothing else is touched: modes stay as the
# functions (or the restored backup) made them. The functions write as
# APP_UID, so in normal operation there is nothing to fix; a restore
# (`docker compose cp` into the running service) leaves files owned by root,
# which the functions (uid 65532, no capabilities) could neither read, nor
# replace, nor delete, until this gives them back.
#
# Environment: UPLOADS_DIR (default /srv/bandarchive/uploads), APP_UID and
# APP_GID (default 65532), UPLOADS_FIX_INTERVAL in seconds (default 10).
# POSIX sh, find and chown: BusyBox's in the image.
set -eu

dir=${UPLOADS_DIR:-/srv/bandarchive/uploads}
uid=${APP_UID:-65532}
gid=${APP_GID:-65532}
interval=${UPLOADS_FIX_INTERVAL:-10}

say() { printf 'uploads-admin: %s\n' "$*" >&2; }

# strays lists, or acts on with the find actions given, whatever is not
# owned by uid:gid.
strays() {
	find "$dir" \( ! -user "$uid" -o ! -group "$gid" \) "$@"
}

fix() {
	strays -exec chown -h "$uid:$gid" {} +
}

check() {
	left=$(strays -print) || return 1
	if [ -n "$left" ]; then
		say "not yet owned by $uid:$gid:"
		printf '%s\n' "$left" | head -n 5 >&2
		return 1
	fi
}

[ -d "$dir" ] || { say "$dir is not a directory"; exit 1; }

case ${1:-run} in
run)
	sleeper=
	# As PID 1 the shell ignores SIGTERM unless it traps it; docker stop
	# sends SIGTERM.
	trap '[ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null; exit 0' TERM INT
	# A failure (a file removed during the walk, a missing capability) is
	# not fatal: the loop tries again, and the healthcheck tells.
	if fix; then
		say "$dir belongs to $uid:$gid; checking again every ${interval}s"
	else
		say "could not give everything in $dir to $uid:$gid; trying again in ${interval}s"
	fi
	while :; do
		sleep "$interval" &
		sleeper=$!
		wait "$sleeper" || :
		sleeper=
		fix || say "could not give everything in $dir to $uid:$gid; trying again in ${interval}s"
	done
	;;
fix) fix ;;
check) check ;;
*)
	say "usage: uploads-admin [run|fix|check]"
	exit 2
	;;
esac

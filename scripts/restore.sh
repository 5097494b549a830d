#!/usr/bin/env bash
# restore.sh DIR: puts a backup made by backup.sh (make backup) back into a
# plain Docker Compose installation, replacing its database and uploads.
# `make restore BACKUP_DIR=DIR` runs it.
#
#   1. checks the backup's checksums;
#   2. stops every service but db and uploads-admin (the archive is down
#      meanwhile) and starts those two;
#   3. replaces the database with the dump (pg_restore --clean);
#   4. empties the uploads volume and unpacks the tar into it;
#   5. starts everything again: the migrate step brings an older dump up
#      to date, uploads-admin gives any file back to the functions' user,
#      and the sweep settles files and rows that the backup caught apart
#      (see backup.sh).
#
# DB_SH and UPLOADS_SH run a shell script inside the db and uploads-admin
# containers, APP_STOP and APP_START stop and start the archive; the tests
# run the same steps on this machine instead.
set -euo pipefail

dir=${1:?usage: restore.sh DIR (a folder made by backup.sh)}
db_sh=${DB_SH:-docker compose exec -T db sh -c}
uploads_sh=${UPLOADS_SH:-docker compose exec -T uploads-admin sh -c}
uploads=${UPLOADS_PATH:-/srv/bandarchive/uploads}
app_stop=${APP_STOP:-docker compose stop nginx send-link verify session invites upload recordings scores band worker}
app_start=${APP_START:-docker compose up -d --wait}
core_start=${CORE_START:-docker compose up -d --wait db uploads-admin}

say() { printf 'restore: %s\n' "$*" >&2; }

for f in db.dump uploads.tar SHA256SUMS; do
	if [[ ! -f $dir/$f ]]; then
		say "$dir has no $f: not a backup made by make backup"
		exit 2
	fi
done
(cd "$dir" && sha256sum --check --quiet SHA256SUMS) || {
	say "$dir does not match its checksums: not restoring it"
	exit 1
}

say "stopping the archive"
$app_stop
$core_start

# shellcheck disable=SC2016
$db_sh 'pg_restore -U "$POSTGRES_USER" -d "$POSTGRES_DB" --clean --if-exists --no-owner --exit-on-error' <"$dir/db.dump"
say "database restored"

$uploads_sh "find '$uploads' -mindepth 1 -maxdepth 1 -exec rm -rf {} + && tar xf - -C '$uploads'" <"$dir/uploads.tar"
say "uploads restored"

say "starting the archive"
$app_start
say "done"

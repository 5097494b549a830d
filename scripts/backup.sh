#!/usr/bin/env bash
# backup.sh DIR: a backup of a plain Docker Compose installation
# (docker-compose.yml) into DIR, which must be new or empty: the database
# as a pg_dump (db.dump, custom format), the uploads volume as a tar
# (uploads.tar), and their checksums (SHA256SUMS). `make backup` runs it.
#
# The archive keeps running. The database is dumped first, then the
# uploads are read, and the two agree: a recording in the dump has its
# files in the tar, since files are written before their rows, and a
# recording deleted after the dump still has them in the trash (.trash),
# where they stay for UPLOADS_TRASH_RETENTION (24 h) and whence the sweep
# puts them back after a restore of a dump that still has the row. Files
# uploaded after the dump have no row there; the sweep removes them.
#
# Each step runs inside the stack's containers: DB_SH and UPLOADS_SH are
# the commands that run a shell script there (the tests run the same
# scripts on this machine instead). UPLOADS_PATH is the uploads volume's
# path inside uploads-admin.
set -euo pipefail

out=${1:?usage: backup.sh DIR}
db_sh=${DB_SH:-docker compose exec -T db sh -c}
uploads_sh=${UPLOADS_SH:-docker compose exec -T uploads-admin sh -c}
uploads=${UPLOADS_PATH:-/srv/bandarchive/uploads}

say() { printf 'backup: %s\n' "$*" >&2; }

mkdir -p "$out"
if [[ -n $(ls -A "$out") ]]; then
	say "$out is not empty: give a new folder"
	exit 2
fi
began=$(date +%s)

# The container's own POSTGRES_USER and POSTGRES_DB name the database.
# shellcheck disable=SC2016
$db_sh 'pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" --format=custom' >"$out/db.dump.part"
mv "$out/db.dump.part" "$out/db.dump"
say "database dumped ($(du -h "$out/db.dump" | cut -f1))"

$uploads_sh "tar cf - -C '$uploads' ." >"$out/uploads.tar.part"
mv "$out/uploads.tar.part" "$out/uploads.tar"
say "uploads archived ($(du -h "$out/uploads.tar" | cut -f1))"

(cd "$out" && sha256sum db.dump uploads.tar >SHA256SUMS)
say "done in $(($(date +%s) - began)) s: $out (restore: make restore BACKUP_DIR=$out)"

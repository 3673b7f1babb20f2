#!/usr/bin/env bash
# Back up evals-qa: the PostgreSQL database (pg_dump, custom format) and QA_VAR_DIR (uploads, exports,
# generation outputs) into DEST_DIR, named by the UTC time. Safe while the service runs: pg_dump reads
# one consistent snapshot, and the database is dumped before the files, so every file a dumped row
# points to is in the archive (a file newer than the dump is harmless extra).
#   DATABASE_URL=postgres://... QA_VAR_DIR=/var/lib/evals-qa deploy/backup.sh /srv/backups
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL (postgres://user:password@host:5432/name)}"
: "${QA_VAR_DIR:?set QA_VAR_DIR (the directory the service writes files to)}"
dest=${1:?usage: deploy/backup.sh DEST_DIR}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$dest"
pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$dest/evals-qa-$stamp.dump"
tar --create --gzip --file="$dest/evals-qa-var-$stamp.tar.gz" --directory="$QA_VAR_DIR" \
    --exclude=./db.sqlite3 --exclude='./db.sqlite3-*' --exclude='./test.sqlite3*' .
echo "$dest/evals-qa-$stamp.dump"
echo "$dest/evals-qa-var-$stamp.tar.gz"

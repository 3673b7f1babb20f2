#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into an EMPTY database at DATABASE_URL (createdb it first)
# and into QA_VAR_DIR. Stop the web and Celery processes first; start them after (they migrate nothing
# when the backup is from the same release; from an older one, run `manage.py migrate` before them).
#   DATABASE_URL=postgres://... QA_VAR_DIR=/var/lib/evals-qa deploy/restore.sh X.dump X-var.tar.gz
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL (an empty database)}"
: "${QA_VAR_DIR:?set QA_VAR_DIR}"
dump=${1:?usage: deploy/restore.sh DUMP VAR_TARBALL}
files=${2:?usage: deploy/restore.sh DUMP VAR_TARBALL}
# One transaction: a failed restore leaves the database empty, not half-filled.
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$DATABASE_URL" "$dump"
mkdir -p "$QA_VAR_DIR"
tar --extract --gzip --file="$files" --directory="$QA_VAR_DIR"
echo "restored $dump into the database and $files into $QA_VAR_DIR"

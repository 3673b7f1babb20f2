"""deploy/README.md's backup and restore, tried: deploy/backup.sh, then deploy/restore.sh into a fresh
database and an empty QA_VAR_DIR, and the data is all there."""

import os
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.faults.stack import ROOT, database_create, database_drop, seed

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TABLES = ["auth_user", "authtoken_token", "generation_dataset", "generation_example", "annotation_batch",
          "annotation_item", "annotation_judgment", "django_migrations"]  # fmt: skip


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


def test_a_backup_restores_into_a_fresh_database_with_all_its_rows_and_files():
    if settings.DB_VENDOR != "postgresql":
        pytest.skip("needs DATABASE_URL=postgres://...")
    source, target = database_create(os.environ["DATABASE_URL"]), database_create(os.environ["DATABASE_URL"])
    try:
        seed(source, workers=3, items=20, k=2, judged=2)
        var, restored_var, backups = (Path(tempfile.mkdtemp(prefix=p)) for p in ("var-", "var-restored-", "backups-"))
        (var / "media" / "uploads").mkdir(parents=True)
        (var / "media" / "uploads" / "release.jsonl").write_text('{"question": "kept"}\n')

        env = {**os.environ, "DATABASE_URL": source, "QA_VAR_DIR": str(var)}
        made = subprocess.run([str(ROOT / "deploy" / "backup.sh"), str(backups)], env=env, capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        dump, files = made.stdout.split()

        env = {**os.environ, "DATABASE_URL": target, "QA_VAR_DIR": str(restored_var)}
        done = subprocess.run([str(ROOT / "deploy" / "restore.sh"), dump, files], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

        before = _counts(source)
        assert (before["generation_example"], before["authtoken_token"], before["annotation_judgment"]) == (20, 3, 6)
        assert _counts(target) == before
        assert (restored_var / "media" / "uploads" / "release.jsonl").read_text() == '{"question": "kept"}\n'
    finally:
        database_drop(source)
        database_drop(target)

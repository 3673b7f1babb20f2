"""Time the migrations on a database at scale: the whole public release plus a 450,000-judgment batch.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evals_qa_migrate_bench .venv/bin/python bench/migrate_scale.py

The database of DATABASE_URL (default above; its name must contain "bench") is DROPPED and created
again, unless --reuse finds it already filled. Steps, each timed:
1. `migrate` from zero to head on the empty database;
2. import the whole release (bench/import_release.py's folder, ../shared/data/model-written-evals);
3. add report_scale.py's batch: 150 datasets x 1,000 examples x 3 judgments (450,000 judgments);
4. for each app, its latest migration backward (`migrate <app> <previous>`, which also unapplies
   what depends on it) and forward again (`migrate`), the way an upgrade applies this release's
   migrations and a rollback takes them back; then a `migrate` with nothing to apply.
Prints the figures for bench/RESULTS.md ("Migrations at scale"). Rerun it after adding migrations:
it always takes each app's newest one.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/evals_qa_migrate_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qa.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench.import_release import DEFAULT_RELEASE, fresh_database, load  # noqa: E402
from bench.report_scale import machine  # noqa: E402


def timed(label: str, action):
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    print(f"  {label:<62} {seconds:8.2f} s   (load {load()})", flush=True)
    return result, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--release", default=str(DEFAULT_RELEASE), help="the release folder")
    parser.add_argument("--reuse", action="store_true", help="keep a database an earlier run filled")
    args = parser.parse_args()

    import psycopg

    filled = False
    if args.reuse:
        try:
            with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
                filled = conn.execute("SELECT count(*) FROM annotation_judgment").fetchone()[0] >= 450_000
        except psycopg.Error:
            filled = False
    where = "reused" if filled else fresh_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    print(f"machine: {machine()}")
    print(f"database: {where}")
    if not filled:
        timed("migrate, zero to head, empty database", lambda: call_command("migrate", verbosity=0))
        from generation.services import dataset_import_paths

        summary, _ = timed(f"import the release ({args.release})", lambda: dataset_import_paths(paths=[Path(args.release)]))
        assert not summary.errors, summary.errors[:5]
        from bench import report_scale

        timed("add the 450,000-judgment batch (report_scale.fill)", report_scale.fill)

    with connection.cursor() as cursor:
        counts = {}
        for table in ("generation_dataset", "generation_example", "annotation_item", "annotation_assignment",
                      "annotation_judgment"):  # fmt: skip
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print("rows: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()) + f"; database {size}")

    loader = MigrationLoader(connection)
    for app in ("generation", "annotation", "analysis"):
        names = sorted(name for label, name in loader.disk_migrations if label == app)
        if len(names) < 2:
            print(f"  {app}: only {names[0]}; reversing it would drop the app's tables, skipped")
            continue
        latest, previous = names[-1], names[-2]
        connection.close()
        timed(f"{app} {latest} backward (migrate {app} {previous})", lambda a=app, p=previous: call_command("migrate", a, p, verbosity=0))
        connection.close()
        timed(f"{app} {latest} forward (migrate)", lambda: call_command("migrate", verbosity=0))
    timed("migrate with nothing to apply", lambda: call_command("migrate", verbosity=0))


if __name__ == "__main__":
    main()

"""Import the whole public release into a fresh database, check it, and time it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evals_qa_bench .venv/bin/python bench/import_release.py

Without DATABASE_URL it runs on a fresh SQLite file. The PostgreSQL database named in
DATABASE_URL is DROPPED and created again, so its name must contain "bench".

Prints: seconds and rows per second for the whole release (best and median of --repeat runs,
each into empty tables), the same for a second import that finds everything present, the
Python-only share (parsing and hashing), and the ratio against a row-by-row
Example.objects.create() baseline measured on a sample and extrapolated. Then it checks every
file: distinct rows + repeated lines == the file's lines, and export == the file, byte for byte.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_RELEASE = ROOT.parent / "shared" / "data" / "model-written-evals"


def fresh_database() -> str:
    """Recreate the PostgreSQL database of DATABASE_URL, or point SQLite at a new file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        folder = Path(tempfile.mkdtemp(prefix="evals-qa-bench-"))
        os.environ["QA_VAR_DIR"] = str(folder)
        os.environ["SQLITE_PATH"] = str(folder / "bench.sqlite3")
        return f"SQLite at {folder / 'bench.sqlite3'}"
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    name = config["NAME"]
    if "bench" not in name:
        sys.exit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    admin = psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        version = admin.execute("SHOW server_version").fetchone()[0]
    return f"PostgreSQL {version}, database {name} (dropped and created)"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{nproc} cores ({cpu}), Python {platform.python_version()}, load average {load()}"


def load() -> str:
    # Other work on the machine shows in the timings: print the load beside them.
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--release", default=str(DEFAULT_RELEASE), help="the release folder")
    parser.add_argument("--repeat", type=int, default=3, help="full imports into empty tables (default 3)")
    parser.add_argument(
        "--sample", type=int, default=2000, help="rows for the create() baseline (default 2000)"
    )
    args = parser.parse_args()
    release_dir = Path(args.release)
    if not release_dir.is_dir():
        sys.exit(f"{release_dir}: no such folder")

    where = fresh_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qa.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from generation import release
    from generation.models import Dataset, Example
    from generation.selectors import dataset_export_lines
    from generation.services import dataset_import_paths

    call_command("migrate", verbosity=0)
    print(f"machine: {machine()}")
    print(f"database: {where}")

    files = sorted(p for p in release_dir.rglob("*.jsonl") if not any(x.startswith(".") for x in p.parts))
    lines = {p: sum(1 for line in p.read_bytes().split(b"\n") if line.strip()) for p in files}
    total_lines = sum(lines.values())
    print(f"release: {release_dir} ({len(files)} files, {total_lines:,} lines)")

    # Python alone: read, decode, parse, validate and hash every line.
    started = time.perf_counter()
    distinct = sum(len(release.parse_file(p.read_bytes(), name=str(p)).rows) for p in files)
    python_s = time.perf_counter() - started

    def empty_tables():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"TRUNCATE {Dataset._meta.db_table}, {Example._meta.db_table} RESTART IDENTITY CASCADE"
                )
        else:
            Example.objects.all().delete()
            Dataset.objects.all().delete()

    cold, warm = [], []
    for run in range(args.repeat):
        if run:
            empty_tables()
        started = time.perf_counter()
        summary = dataset_import_paths(paths=[release_dir])
        cold.append(time.perf_counter() - started)
        assert not summary.errors, summary.errors[:5]
        assert summary.rows_added == distinct, (summary.rows_added, distinct)
        started = time.perf_counter()
        again = dataset_import_paths(paths=[release_dir])
        warm.append(time.perf_counter() - started)
        assert again.rows_added == 0 and again.rows_present == distinct

    # Baseline: what a plain loop does, one Example.objects.create() per line (autocommit).
    sample_dataset = Dataset.objects.create(
        slug="bench-baseline", name="baseline", format=release.PERSONA, behavior="-"
    )
    sample, n = [], 0
    for p in files:
        for raw in p.read_text(encoding="utf-8").splitlines():
            if n >= args.sample:
                break
            sample.append(raw)
            n += 1
    started = time.perf_counter()
    seen = set()
    for number, raw in enumerate(sample, 1):
        record = json.loads(raw.replace("\\u0000", "\\u2400"))
        digest = release.content_hash(record)
        if digest in seen:  # a repeated line: stored once, as the real import does
            continue
        seen.add(digest)
        fields = release.parse_record(release.detect_format(record), record)
        Example.objects.create(dataset=sample_dataset, line=number, content_hash=digest, **fields)
    baseline_s = (time.perf_counter() - started) / len(sample) * total_lines
    sample_dataset.delete()

    # Every file: counts, then the exact records back.
    problems = []
    for p in files:
        dataset = Dataset.objects.get(source_file=str(p.resolve()))
        stored = dataset.examples.count()
        repeats = sum(len(r) for r in dataset.examples.values_list("repeat_lines", flat=True))
        if stored + repeats != lines[p]:
            problems.append(f"{p}: {stored} rows + {repeats} repeated lines != {lines[p]} lines")
        if "".join(dataset_export_lines(dataset=dataset)).encode() != p.read_bytes():
            problems.append(f"{p}: export differs from the file")

    best, median = min(cold), statistics.median(cold)
    print(f"distinct records: {distinct:,}; repeated lines stored once: {total_lines - distinct:,}")
    print(
        f"full import into empty tables: best {best:.2f} s, median {median:.2f} s of {len(cold)} "
        f"({total_lines / best:,.0f} lines/s at best)"
    )
    print(f"second import (all present): best {min(warm):.2f} s, median {statistics.median(warm):.2f} s")
    print(f"python only (read, parse, validate, hash): {python_s:.2f} s")
    print(
        f"row-by-row create() baseline: {baseline_s:.1f} s extrapolated from {len(sample):,} rows "
        f"({total_lines / baseline_s:,.0f} lines/s); bulk import is {baseline_s / best:.0f}x faster"
    )
    print(
        f"files checked: {len(files)}; counts and round trip: {'all exact' if not problems else 'PROBLEMS'}"
    )
    for problem in problems:
        print("  " + problem)
    print(f"load average at the end: {load()}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

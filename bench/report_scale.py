"""Report at scale: one batch of 150 datasets x 1,000 examples x 3 judgments (450,000 judgments)
in a PostgreSQL database of its own; time the full report (read, compute, store) and compare with
a naive per-object loop over the ORM on a subset, extrapolated.

    .venv/bin/python bench/report_scale.py            # fill once (kept between runs), then time
    .venv/bin/python bench/report_scale.py --refill   # drop the bench's batch and fill again

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/evals_qa_report_bench (created if
missing). Target: the full report under 5 s on this 2-core machine.
"""

import argparse
import hashlib
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/evals_qa_report_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qa.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

DATASETS, EXAMPLES, K, WORKERS = 150, 1000, 3, 300
BATCH_NAME = "report-scale-bench"


def ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    admin = psycopg.connect(
        host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], password=cfg["PASSWORD"] or None,
        dbname="postgres", autocommit=True,
    )  # fmt: skip
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def setup_django():
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _copy(cursor, model, columns: list[str], rows) -> None:
    table = model._meta.db_table
    cols = ", ".join(f'"{model._meta.get_field(c).column}"' for c in columns)
    with cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def fill(seed: int = 0):
    """Datasets, examples, items and judgments by COPY; users by bulk_create. About a minute."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from annotation.models import Assignment, Batch, Item, Judgment
    from generation.models import Dataset, Example

    rng = np.random.default_rng(seed)
    User = get_user_model()
    started = time.perf_counter()
    with transaction.atomic():
        owner, _ = User.objects.get_or_create(username="bench-owner")
        existing = set(User.objects.filter(username__startswith="bench-w").values_list("username", flat=True))
        User.objects.bulk_create(
            [User(username=f"bench-w{i}") for i in range(WORKERS) if f"bench-w{i}" not in existing]
        )
        workers = np.array(
            User.objects.filter(username__startswith="bench-w").order_by("id").values_list("id", flat=True)
        )
        Dataset.objects.filter(slug__startswith="bench-").delete()
        Dataset.objects.bulk_create(
            [
                Dataset(slug=f"bench-{d:03d}", name=f"bench {d}", format="persona", collection="persona", behavior=f"b{d}")
                for d in range(DATASETS)
            ]
        )
        datasets = list(Dataset.objects.filter(slug__startswith="bench-").order_by("slug").values_list("id", flat=True))
        batch = Batch.objects.create(owner=owner, name=BATCH_NAME, overlap=K, status="completed", seed=0)
        batch.datasets.set(datasets)
        labels = rng.integers(0, 2, DATASETS * EXAMPLES)
        answers = np.array([" Yes", " No"])
        with connection.cursor() as cursor:
            raw = cursor.cursor
            _copy(
                raw,
                Example,
                ["dataset", "line", "repeat_lines", "content_hash", "question", "statement", "label_confidence",
                 "answer_matching_behavior", "answer_not_matching_behavior", "index", "occupation", "other_person",
                 "sentence_with_blank", "bls_original_occupation", "extra"],
                (
                    (
                        datasets[n // EXAMPLES], n % EXAMPLES + 1, "[]",
                        hashlib.sha256(str(n).encode()).hexdigest(),
                        f'Is the following statement something you would say?\n"Statement {n}."', f"Statement {n}.",
                        0.9, f'"{answers[labels[n]]}"', f'"{answers[1 - labels[n]]}"', None, "", "", "", "", "{}",
                    )
                    for n in range(DATASETS * EXAMPLES)
                ),
            )  # fmt: skip
            example_ids = np.array(
                Example.objects.filter(dataset_id__in=datasets).order_by("dataset_id", "line").values_list("id", flat=True)
            )
            _copy(
                raw,
                Item,
                ["batch", "example", "position", "is_gold", "gold_answer", "judgment_count", "lease_count"],
                ((batch.id, int(e), position, False, "", K, 0) for position, e in enumerate(example_ids.tolist())),
            )
            item_ids = np.array(Item.objects.filter(batch=batch).order_by("id").values_list("id", flat=True))
            # Workers: mostly right (90%), a few careless; 3 distinct workers per item.
            accuracy = np.where(rng.random(len(workers)) < 0.05, 0.6, 0.92)
            picks = np.argsort(rng.random((len(item_ids), len(workers))), axis=1)[:, :K]
            right = rng.random(picks.shape) < accuracy[picks]
            truth = labels  # items were written in example order, examples in label order
            code = np.where(right, truth[:, None], 1 - truth[:, None])
            ambiguous = rng.random(picks.shape) < 0.06
            relevance = rng.choice([1, 2, 3, 4, 5], size=picks.shape, p=[0.02, 0.04, 0.1, 0.24, 0.6])
            seconds = rng.gamma(4, 4, size=picks.shape)
            now = timezone.now()
            pairs = [(int(item_ids[i]), int(workers[picks[i, j]])) for i in range(len(item_ids)) for j in range(K)]
            _copy(
                raw,
                Assignment,
                ["item", "worker", "batch", "status", "claimed_at", "expires_at"],
                ((item, worker, batch.id, "submitted", now, now) for item, worker in pairs),
            )
            # One COPY takes its ids from the sequence in row order.
            assignment_ids = Assignment.objects.filter(batch=batch).order_by("id").values_list("id", flat=True)
            flat = [(i, j) for i in range(len(item_ids)) for j in range(K)]
            _copy(
                raw,
                Judgment,
                ["item", "worker", "assignment", "batch", "relevance", "answer", "ambiguous", "comment", "seconds",
                 "submitted_at", "idempotency_key"],
                (
                    (item, worker, assignment, batch.id, int(relevance[i, j]), answers[code[i, j]],
                     bool(ambiguous[i, j]), "", float(seconds[i, j]), now, "")
                    for (item, worker), assignment, (i, j) in zip(pairs, assignment_ids, flat, strict=True)
                ),
            )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"filled {len(item_ids):,} items, {len(item_ids) * K:,} judgments in {time.perf_counter() - started:.1f} s")
    return batch


def naive_report(batch, dataset_ids) -> dict:
    """What a straightforward implementation does: one Python object per item and judgment,
    figures by Python loops."""
    from collections import Counter

    from annotation.models import Item

    out = {}
    for dataset_id in dataset_ids:
        items = Item.objects.filter(batch=batch, example__dataset_id=dataset_id, is_gold=False).select_related("example")
        majority = answer_agree = judgments = 0
        relevance, ambiguous_votes, rows = [], Counter(), []
        for item in items:
            label = item.example.answer_matching_behavior
            votes = list(item.judgments.all())
            agree = sum(1 for j in votes if j.answer == label)
            judgments += len(votes)
            answer_agree += agree
            majority += agree * 2 > len(votes)
            ambiguous_votes[sum(1 for j in votes if j.ambiguous)] += 1
            relevance += [j.relevance for j in votes]
            rows.append(Counter(j.answer for j in votes))
        n, m = len(rows), K
        cats = sorted({c for r in rows for c in r})
        p = {c: sum(r[c] for r in rows) / (n * m) for c in cats}
        p_mean = sum((sum(v * v for v in r.values()) - m) / (m * (m - 1)) for r in rows) / n
        p_exp = sum(v * v for v in p.values())
        mean = sum(relevance) / len(relevance)
        out[dataset_id] = {
            "majority": majority / n,
            "answer": answer_agree / judgments,
            "kappa": (p_mean - p_exp) / (1 - p_exp),
            "relevance": (mean, statistics.stdev(relevance)),
            "ambiguous": ambiguous_votes,
        }
    return out


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refill", action="store_true", help="drop the bench batch and fill again")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--naive-datasets", type=int, default=3, help="datasets in the naive subset")
    args = parser.parse_args()
    setup_django()

    from django.db import connection

    from analysis.assemble import build_report
    from analysis.selectors import report_inputs, report_of
    from analysis.services import report_compute
    from annotation.models import Batch, Judgment

    batch = Batch.objects.filter(name=BATCH_NAME).order_by("-id").first()
    if args.refill and batch is not None:
        Batch.objects.filter(name=BATCH_NAME).delete()
        batch = None
    if batch is None or Judgment.objects.filter(batch=batch).count() != DATASETS * EXAMPLES * K:
        if batch is not None:
            Batch.objects.filter(name=BATCH_NAME).delete()
        batch = fill()

    print(f"machine: {machine()}; PostgreSQL {connection.cursor().connection.info.server_version}")
    report = report_of(batch=batch)
    totals, reads, computes = [], [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        inputs = report_inputs(batch=batch)
        t1 = time.perf_counter()
        build_report(inputs)
        t2 = time.perf_counter()
        reads.append(t1 - t0)
        computes.append(t2 - t1)
        t3 = time.perf_counter()
        report = report_compute(report=report)
        totals.append(time.perf_counter() - t3)
    payload = report.payload
    total = payload["batch"]
    print(
        f"full report (read + compute + store), {total['judgments']:,} judgments, {total['examples']:,} examples, "
        f"{len(payload['datasets'])} datasets, {len(payload['workers'])} workers: "
        f"median {statistics.median(totals):.2f} s (runs: {', '.join(f'{t:.2f}' for t in totals)})"
    )
    print(f"  of which reading into arrays {statistics.median(reads):.2f} s, computing {statistics.median(computes):.2f} s")
    print(
        f"  batch: majority agrees {total['majority_agrees_with_label']['value']:.3f}, "
        f"Fleiss kappa {total['fleiss_kappa_answers']['value']:.3f} "
        f"[{total['fleiss_kappa_answers']['ci_low']:.3f}, {total['fleiss_kappa_answers']['ci_high']:.3f}]"
    )

    subset = [d["dataset"]["id"] for d in payload["datasets"][: args.naive_datasets]]
    t0 = time.perf_counter()
    naive = naive_report(batch, subset)
    naive_seconds = time.perf_counter() - t0
    extrapolated = naive_seconds * DATASETS / len(subset)
    first = payload["datasets"][0]
    assert abs(naive[subset[0]]["kappa"] - first["fleiss_kappa_answers"]["value"]) < 1e-9
    assert abs(naive[subset[0]]["majority"] - first["majority_agrees_with_label"]["value"]) < 1e-12
    print(
        f"naive per-object ORM loop: {naive_seconds:.2f} s for {len(subset)} datasets "
        f"({len(subset) * EXAMPLES * K:,} judgments, fewer figures), extrapolated to {DATASETS}: {extrapolated:.0f} s; "
        f"ratio {extrapolated / statistics.median(totals):.0f}x"
    )


if __name__ == "__main__":
    main()

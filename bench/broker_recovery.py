"""Issue #10's measure: Redis stopped for 10 s while workers judge and an upload is made; after it
returns, how long until every report is fresh and the upload's import has run, with nobody pressing
anything. The target: within two sweep periods (2 x WORK_SWEEP_SECONDS).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evals_qa_recovery_bench .venv/bin/python bench/broker_recovery.py

Starts a private redis-server on a free port (never the machine's Redis on 6379; no persistence, so
stopping it loses every message, the harshest case), a PostgreSQL database of its own (dropped and
created; its name must contain "bench") with --batches running batches, and the one-command stack
(manage.py serve, what bin/serve runs: gunicorn with 3 sync workers, a default-queue Celery worker and
beat) with WORK_SWEEP_SECONDS (--sweep, default 5) and REPORT_DEBOUNCE_SECONDS (--debounce, default 2)
in its environment. Then:

1. N workers (--workers, default 10) claim, submit, think (--think, default 0.3 s) on the batches
   for --before seconds (default 10), so that every batch's report is computed and then pending;
2. Redis stops for --outage seconds (default 10); the workers go on, and a researcher uploads a file
   of --rows persona records (POST /api/v1/imports/);
3. Redis starts again on the same port and the workers stop (so that "fresh" has a fixed target);
4. the database is polled every 0.2 s until every report row is fresh (not stale, ready, computed
   after the last judgment and counting all of its batch's judgments) and the import job is done.

Prints the claims and submits that failed during the outage (the target is 0) and overall, the
time from Redis's return until the import had run, until every report was fresh, and both, against
two sweep periods; whether serve started a Celery process again ("starting it again" in its log)
and whether a worker logged "Unrecoverable error"; the batches' invariants; and the number of
judgments and imported rows against what was acknowledged.
"""

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import annotation_loop as loop  # noqa: E402
from bench import stack_load  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/evals_qa_recovery_bench"
# What the timeline shows of the stack's log: the worker's death and restart, its reconnecting, beat
# sending the sweep, and the tasks the sweep (or the requests) enqueued.
TIMELINE = ("Unrecoverable error", "starting it again", "started worker", "started beat", "exited with status",
            "ready.", "Connected to redis", "Cannot connect", "connection lost", "Sending due task heal-work",
            "work_heal", "report_compute_task", "import_job_run")  # fmt: skip


def healed(batches, job_id: int, last_judgment) -> tuple[bool, bool, list[str]]:
    """(every report fresh, import done, what is not yet) from the database."""
    from analysis.models import Report
    from annotation.models import Judgment
    from generation.models import ImportJob

    waiting = []
    for batch in batches:
        n = Judgment.objects.filter(batch=batch).count()
        report = Report.objects.filter(scope="batch", batch=batch).first()
        if report is None:
            waiting.append(f"batch {batch.pk}: no report")
        elif report.stale or report.status != "ready" or report.judgments != n or report.computed_at < last_judgment:
            waiting.append(f"batch {batch.pk}: report stale={report.stale} {report.status} {report.judgments}/{n}")
    for report in Report.objects.exclude(scope="batch"):
        if report.stale or report.status != "ready" or (report.computed_at and report.computed_at < last_judgment):
            waiting.append(f"{report}: stale={report.stale}")
    reports_fresh = not waiting
    job = ImportJob.objects.get(pk=job_id)
    if job.status != "done":
        waiting.append(f"import {job.pk}: {job.status}")
    return reports_fresh, job.status == "done", waiting


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--think", type=float, default=0.3)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--items", type=int, default=1000, help="Items per batch.")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--before", type=float, default=10, help="Seconds of judging before Redis stops.")
    parser.add_argument("--outage", type=float, default=10, help="Seconds Redis is down.")
    parser.add_argument("--sweep", type=int, default=5, help="WORK_SWEEP_SECONDS of the stack.")
    parser.add_argument("--debounce", type=int, default=2, help="REPORT_DEBOUNCE_SECONDS of the stack.")
    parser.add_argument("--rows", type=int, default=2000, help="Rows of the file uploaded while Redis is down.")
    parser.add_argument("--web", type=int, default=3, help="gunicorn worker processes.")
    parser.add_argument("--limit", type=float, default=180, help="Give up waiting for the heal after this many seconds.")
    args = parser.parse_args()

    print(f"load average at start: {stack_load.load_average()}  ({time.strftime('%H:%M:%S UTC', time.gmtime())})")
    redis = stack_load.PrivateRedis()
    redis.start()
    stack = None
    try:
        url = os.environ.get("DATABASE_URL", DEFAULT_DB)
        loop.fresh_database(url)
        loop.BROKER = redis.url  # setup_django points this process's Celery there
        loop.setup_django(url)
        from django.db import connections
        from rest_framework.authtoken.models import Token

        from analysis.models import Report
        from annotation.models import Judgment
        from generation.models import Example

        researcher, tokens = loop.make_accounts(args.workers)
        batches = [loop.make_batch(researcher, args.items, args.k, f"recovery-{i}") for i in range(args.batches)]
        researcher_token = Token.objects.create(user=researcher).key
        connections.close_all()  # before the load generator forks
        env = {"WORK_SWEEP_SECONDS": str(args.sweep), "REPORT_DEBOUNCE_SECONDS": str(args.debounce),
               "WEB_CONCURRENCY": str(args.web)}  # fmt: skip
        stack = stack_load.start_stack(url, redis.url, env, "--no-gpu-worker", web=args.web)
        port = stack.port
        print(f"stack: manage.py serve on 127.0.0.1:{port}, gunicorn {args.web} sync workers, a default-queue Celery "
              f"worker (concurrency 1) and beat; WORK_SWEEP_SECONDS={args.sweep}, REPORT_DEBOUNCE_SECONDS={args.debounce}; "
              f"private redis-server on port {redis.port}; {args.workers} workers on {args.batches} batches, think {args.think} s")  # fmt: skip
        warm = stack_load.Client(port, tokens[0])
        for _ in range(20 * args.web):
            warm.post("/api/v1/assignments/next", {"batch": 0})

        t0 = time.time()
        down_at, up_at = t0 + args.before, t0 + args.before + args.outage
        with mp.get_context("fork").Pool(1) as pool:
            load = pool.apply_async(
                stack_load.honest_workers, ((port, tokens, [b.pk for b in batches], up_at, args.think, 3),)
            )
            time.sleep(max(0.0, down_at - time.time()))
            before = {r.pk: (r.stale, r.status, r.judgments, r.queued_at is not None) for r in Report.objects.all()}
            redis.stop()
            down = time.time()
            print(f"\nRedis stopped at +{down - t0:.1f} s; reports then (stale, status, judgments, queued): {before}")
            body, content_type = stack_load.multipart({"outage.jsonl": stack_load.persona_file(args.rows, "outage")})
            status, _, data, took = stack_load.request(
                port, "POST", "/api/v1/imports/", body, {"Authorization": f"Token {researcher_token}", "Content-Type": content_type}
            )  # fmt: skip
            print(f"upload during the outage: {status} in {took * 1000:.0f} ms  {data[:160].decode(errors='replace')}")
            job_id = json.loads(data)["id"] if status == 202 else None
            time.sleep(max(0.0, up_at - time.time()))
            redis.start()
            up = time.time()
            print(f"Redis started again at +{up - t0:.1f} s (down {up - down:.1f} s); the workers stop now")
            records = load.get()
        last_judgment = Judgment.objects.order_by("-submitted_at").values_list("submitted_at", flat=True).first()
        print(f"load stopped {time.time() - up:.1f} s after Redis returned; last judgment at +{last_judgment.timestamp() - t0:.1f} s")

        reports_at = import_at = None
        waiting: list[str] = []
        while job_id is not None and time.time() - up < args.limit:
            fresh, imported, waiting = healed(batches, job_id, last_judgment)
            now = time.time()
            if fresh and reports_at is None:
                reports_at = now
            if imported and import_at is None:
                import_at = now
            if fresh and imported:
                break
            time.sleep(0.2)

        print("\n=== claims and submits ===")
        outage = stack_load.summarize(records, since=down, until=up)
        total = stack_load.summarize(records)
        print(f"during the outage ({up - down:.1f} s):")
        for kind, name in (("next", "claim"), ("judgment", "submit")):
            print(stack_load.line(name, outage[kind]))
        print("whole run:")
        for kind, name in (("next", "claim"), ("judgment", "submit"), ("pair", "claim + submit")):
            print(stack_load.line(name, total[kind]))

        target = 2 * args.sweep
        print(f"\n=== recovery (target: within two sweep periods, {target} s) ===")
        for what, at in (("import run", import_at), ("every report fresh", reports_at)):
            if at is None:
                print(f"  {what}: NOT within {args.limit:.0f} s; still waiting on {waiting[:6]}")
            else:
                print(f"  {what}: {at - up:5.1f} s after Redis returned  ({(at - up) / target:.2f} of the target)")
        if import_at and reports_at:
            both = max(import_at, reports_at) - up
            print(f"  both: {both:.1f} s = {both / args.sweep:.1f} sweep periods -> {'met' if both <= target else 'NOT met'}")
        restarts = [line.strip() for line in stack.lines if "starting it again" in line]
        unrecoverable = [line.strip() for line in stack.lines if "Unrecoverable error" in line]
        print(f"  serve started a Celery process again: {len(restarts)} time(s)")
        for line in restarts[:6]:
            print(f"    {line}")
        print(f"  Celery worker 'Unrecoverable error' lines: {len(unrecoverable)}")
        for line in unrecoverable[:2]:
            print(f"    {line[:200]}")

        print("\n=== timeline, seconds from Redis's return (the stack's log as it arrived) ===")
        shown = 0
        for at, text in zip(stack.lines.times, stack.lines, strict=True):
            banner = text.lstrip().startswith(". ")  # the worker's list of its tasks as it starts
            if at >= down - 0.5 and not banner and any(mark in text for mark in TIMELINE) and shown < 40:
                shown += 1
                print(f"  {at - up:+6.1f} s  {text.strip()[:170]}")

        acknowledged = sum(1 for r in records if r[1] == "judgment" and r[2] == 201)
        stored = Judgment.objects.filter(batch__in=batches).count()
        print(f"\njudgments acknowledged {acknowledged}, stored {stored}; rows imported from the upload "
              f"{Example.objects.filter(dataset__slug__startswith='outage').count()} of {args.rows}")  # fmt: skip
        for batch in batches:
            problems = loop.check_invariants(batch)
            print(f"invariants of batch {batch.pk}: {'intact' if not problems else problems[:5]}")
    finally:
        if stack is not None:
            stack.stop()
        redis.stop()
        print(f"load average at end: {stack_load.load_average()}  ({time.strftime('%H:%M:%S UTC', time.gmtime())})")


if __name__ == "__main__":
    main()

"""Drive the annotation loop over HTTP as in production and check the invariants afterwards.

    .venv/bin/python bench/annotation_loop.py            # capacity at N = 1, 10, 50, 200 and latency at 60/s

Starts gunicorn (deploy/gunicorn.conf.py) on PostgreSQL (DATABASE_URL, default a database of its
own, dropped and created, whose name must contain "bench") with a Redis broker, creates a batch
(default 2,000 items, k = 3) for each load shape, and runs simulated workers, each its own account,
token and keep-alive connection, looping claim then submit:
- capacity: N workers with no think time for --seconds;
- latency: a fixed arrival rate (--rate, default 60 judgments/s), each arrival one claim and one submit.
Prints judgments per second, p50/p95/p99 per endpoint, errors, CPU per judgment, the load average
and the invariants. The load generator runs on the same machine, in --procs processes.

--server reference runs the bare loop itself (bench/reference_app.py: the same two transactions
behind minimal DRF views, same gunicorn config, workers and database) under the same load; it does
not mark batches completed, so that one invariant is skipped for it. --server both runs the
reference, then the service, and prints service / reference as measured in that run:

    .venv/bin/python bench/annotation_loop.py --server both --rate 0

Two loops drive the service, one after the other on the same server and shapes:
- two requests per judgment: claim (POST /api/v1/assignments/next), then submit;
- one request per judgment: submit with "next": true, which hands out the next item in its answer
  (issue #14); a worker claims only for its first item, or after a refusal.
The reference app has only the two-request loop. For every run the script prints the CPU per
judgment of the web processes (gunicorn and its workers) and of the PostgreSQL backends connected
to the bench's database, read from /proc, and the load average, since the machine may be shared.

--stack runs the service through the one-command production stack (manage.py serve, what bin/serve
runs: gunicorn with the same config, a default-queue Celery worker and beat) instead of bare gunicorn:

    .venv/bin/python bench/annotation_loop.py --stack --workers 50,200 --rate 0
"""

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/evals_qa_loop_bench"
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")  # flushed before and after
LOOPS = {"two": "two requests per judgment (claim, submit)", "one": 'one request per judgment (submit with "next": true)'}


def fresh_database(url: str) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    if "bench" not in config["NAME"]:
        sys.exit(f"refusing to drop {config['NAME']!r}: its name must contain 'bench'")
    with psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        dbname="postgres",
        autocommit=True,
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{config["NAME"]}"')


def setup_django(url: str):
    os.environ.update(
        {"DATABASE_URL": url, "CELERY_BROKER_URL": BROKER, "DJANGO_SETTINGS_MODULE": "qa.settings"}
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_accounts(n_workers: int):
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from qa.roles import RESEARCHER, WORKER, user_add_role

    User = get_user_model()
    # Tokens only: no password to hash (PBKDF2 would take a minute for 100 accounts here).
    researcher = User.objects.create_user("bench-researcher")
    user_add_role(user=researcher, role=RESEARCHER)
    tokens = []
    for i in range(n_workers):
        user = User.objects.create_user(f"bench-worker-{i}")
        user_add_role(user=user, role=WORKER)
        tokens.append(Token.objects.create(user=user).key)
    return researcher, tokens


def make_batch(researcher, items: int, k: int, tag: str):
    from annotation import services
    from generation import release
    from generation.models import Dataset, Example

    dataset = Dataset.objects.create(
        slug=f"loop-{tag}", name=tag, collection="persona", format="persona", behavior="is punctual"
    )
    rows = []
    for i in range(items):
        label = " Yes" if i % 2 else " No"
        record = {"question": f'Is the following statement something you would say?\n"Statement {tag} {i}"',
                  "statement": f"Statement {tag} {i}", "label_confidence": 0.9,
                  "answer_matching_behavior": label, "answer_not_matching_behavior": " No" if label == " Yes" else " Yes"}  # fmt: skip
        rows.append(
            Example(
                dataset=dataset,
                line=i + 1,
                content_hash=release.content_hash(record),
                **release.parse_record("persona", record),
            )
        )
    Example.objects.bulk_create(rows, batch_size=1000)
    batch = services.batch_create(
        owner=researcher, name=tag, datasets=[dataset], sample_size=None, overlap=k, seed=1
    )
    return services.batch_launch(batch=batch, user=researcher)


class Client:
    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Host": "127.0.0.1",
        }

    def post(self, path, body):
        start = time.perf_counter()
        self.conn.request("POST", path, body=json.dumps(body), headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - start


def _claim(client, batch_id, stats):
    """(go on?, the assignment claimed or None)."""
    status, data, seconds = client.post("/api/v1/assignments/next", {"batch": batch_id})
    stats["next"].append(seconds)
    if status == 204:
        return False, None
    if status != 200:
        stats["errors"].append(f"next {status} {data[:100]!r}")
        return True, None
    return True, json.loads(data)


def _answer(rng, assignment, **extra) -> dict:
    return {"relevance": rng.randint(1, 5), "answer": rng.choice(assignment["choices"]), "ambiguous": rng.random() < 0.1,
            "idempotency_key": f"{assignment['id']}-{rng.random()}", **extra}  # fmt: skip


def _one(client, batch_id, rng, stats):
    go_on, assignment = _claim(client, batch_id, stats)
    if assignment is None:
        return go_on
    body = _answer(rng, assignment)
    status, data, seconds = client.post(f"/api/v1/assignments/{assignment['id']}/judgment", body)
    stats["judgment"].append(seconds)
    if status == 201:
        stats["ok"] += 1
    elif status != 409:
        stats["errors"].append(f"judgment {status} {data[:100]!r}")
    return True


def _one_combined(client, batch_id, rng, stats, state):
    """One judgment in one request: submit the item on hand with "next": true, keep what it hands out.
    Claims only when the worker holds nothing yet (its first item, or after a refusal)."""
    assignment = state.get("current")
    if assignment is None:
        go_on, assignment = _claim(client, batch_id, stats)
        if assignment is None:
            return go_on
    body = _answer(rng, assignment, next=True)
    status, data, seconds = client.post(f"/api/v1/assignments/{assignment['id']}/judgment", body)
    stats["judgment"].append(seconds)
    state["current"] = None
    if status == 201:
        stats["ok"] += 1
        reply = json.loads(data)
        state["current"] = reply["next"]
        if reply["next"] is None and reply["next_status"] == "none":
            return False  # no work left for this worker: as a 204 of the claim
    elif status != 409:
        stats["errors"].append(f"judgment {status} {data[:100]!r}")
    return True


def _step(loop):
    if loop == "one":
        return _one_combined
    return lambda client, batch_id, rng, stats, state: _one(client, batch_id, rng, stats)


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _processes():
    """(pid, parent pid, command line) of every process."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        yield int(name), ppid, cmdline


def cpu_snapshot(server_pid: int, database: str) -> dict:
    """CPU seconds so far of the server's process tree ("web") and, per backend, of the PostgreSQL
    backends connected to the bench's database ("db", keyed by pid)."""
    procs = list(_processes())
    tree, grew = {server_pid}, True
    while grew:
        grew = False
        for pid, ppid, _ in procs:
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    backends = {pid: _cpu_seconds(pid) for pid, _, cmd in procs if cmd.startswith("postgres:") and f" {database} " in cmd}
    return {"web": sum(_cpu_seconds(pid) for pid in tree), "db": backends}


def cpu_used(before: dict, after: dict) -> tuple[float, float]:
    """Web and database CPU seconds between two snapshots (backends opened meanwhile count from 0)."""
    db = sum(seconds - before["db"].get(pid, 0.0) for pid, seconds in after["db"].items())
    return after["web"] - before["web"], db


def closed_loop(args):
    port, tokens, batch_id, seconds, seed, loop = args
    import threading

    stats = {"next": [], "judgment": [], "errors": [], "ok": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    step = _step(loop)

    def run(token, i):
        client, rng, state = Client(port, token), random.Random(seed * 1000 + i), {}
        mine = {"next": [], "judgment": [], "errors": [], "ok": 0}
        while time.perf_counter() < deadline and step(client, batch_id, rng, mine, state):
            pass
        with lock:
            for key in ("next", "judgment", "errors"):
                stats[key].extend(mine[key])
            stats["ok"] += mine["ok"]

    threads = [threading.Thread(target=run, args=(t, i)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats


def open_loop(args):
    """Arrivals at a fixed rate; each arrival takes a free worker account and does claim + submit."""
    port, tokens, batch_id, seconds, rate, seed, loop = args
    import queue
    import threading

    step = _step(loop)
    stats = {"next": [], "judgment": [], "errors": [], "ok": 0, "late": 0}
    lock = threading.Lock()
    # Last in, first out: the account that just finished takes the next arrival, as a worker who keeps
    # labelling would (the one-request loop then claims only for the few accounts it ever needs).
    free = queue.LifoQueue()
    for i, token in enumerate(tokens):
        free.put((Client(port, token), random.Random(seed * 1000 + i), {}))
    arrivals = queue.Queue()

    def serve():
        while True:
            due = arrivals.get()
            if due is None:
                return
            client, rng, state = free.get()
            mine = {"next": [], "judgment": [], "errors": [], "ok": 0}
            step(client, batch_id, rng, mine, state)
            free.put((client, rng, state))
            with lock:
                for key in ("next", "judgment", "errors"):
                    stats[key].extend(mine[key])
                stats["ok"] += mine["ok"]

    pool = [threading.Thread(target=serve) for _ in range(len(tokens))]
    for t in pool:
        t.start()
    start = time.perf_counter()
    n = int(seconds * rate)
    for i in range(n):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        elif delay < -0.05:
            stats["late"] += 1
        arrivals.put(due)
    for _ in pool:
        arrivals.put(None)
    for t in pool:
        t.join()
    stats["elapsed"] = time.perf_counter() - start
    return stats


def percentiles(values):
    if not values:
        return "–"
    ms = sorted(v * 1000 for v in values)
    pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    return f"p50 {pick(0.5):6.1f} ms  p95 {pick(0.95):6.1f} ms  p99 {pick(0.99):6.1f} ms"


def merge(parts):
    total = {"next": [], "judgment": [], "errors": [], "ok": 0}
    for p in parts:
        for key in ("next", "judgment", "errors"):
            total[key].extend(p[key])
        total["ok"] += p["ok"]
    return total


def _print_latencies(loop, total):
    if loop == "one":
        print(f"  submit + next {percentiles(total['judgment'])}")
        print(f"  claim (first item only, {len(total['next'])} requests) {percentiles(total['next'])}")
    else:
        print(f"  claim    {percentiles(total['next'])}")
        print(f"  submit   {percentiles(total['judgment'])}")


def check_invariants(batch, batch_status: bool = True) -> list[str]:
    """Counters equal rows, at most k judgments per item, no (item, worker) pair twice, and with
    batch_status the batch is completed exactly when every item is (not the reference app's job)."""
    from django.db.models import Count

    from annotation.models import Item, Judgment

    problems = []
    counts = dict(Judgment.objects.filter(batch=batch).values_list("item").annotate(n=Count("pk")))
    for item_id, stored in Item.objects.filter(batch=batch).values_list("pk", "judgment_count"):
        actual = counts.get(item_id, 0)
        if actual != stored:
            problems.append(f"item {item_id}: counter {stored}, rows {actual}")
        if actual > batch.overlap:
            problems.append(f"item {item_id}: {actual} judgments > k")
    pairs = (
        Judgment.objects.filter(batch=batch).values("item", "worker").annotate(n=Count("pk")).filter(n__gt=1)
    )
    if pairs.exists():
        problems.append(f"{pairs.count()} (item, worker) pairs judged twice")
    if not batch_status:
        return problems
    batch.refresh_from_db()
    complete = not Item.objects.filter(batch=batch, judgment_count__lt=batch.overlap).exists()
    if complete != (batch.status == "completed"):
        problems.append(f"batch status {batch.status} but complete={complete}")
    return problems


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", default="1,10,50,200", help="Closed-loop worker counts.")
    parser.add_argument("--loops", default="two,one",
                        help="The service's loops: two (claim, then submit) and/or one (submit with next: true).")  # fmt: skip
    parser.add_argument("--rate", type=float, default=60, help="Open-loop arrivals per second (0 to skip).")
    parser.add_argument("--procs", type=int, default=2, help="Load-generator processes.")
    parser.add_argument("--web", type=int, default=3, help="gunicorn worker processes.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--server", choices=["service", "reference", "both"], default="service",
                        help="What gunicorn runs: the service (qa.wsgi), the bare reference loop (bench/reference_app.py), "
                        "or both on this machine, reference first, with the measured ratio per N.")  # fmt: skip
    parser.add_argument("--stack", action="store_true",
                        help="Run the service through manage.py serve (gunicorn, a Celery worker and beat), as bin/serve does.")  # fmt: skip
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    fresh_database(url)
    setup_django(url)
    counts = [int(n) for n in args.workers.split(",") if n]
    researcher, tokens = make_accounts(max(counts + [100]))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; gunicorn {args.web} workers; "
          f"load generator {args.procs} processes on the same machine; {args.items} items, k = {args.k}")  # fmt: skip
    servers = ["reference", "service"] if args.server == "both" else [args.server]
    loops = [loop for loop in args.loops.split(",") if loop]
    if not set(loops) <= set(LOOPS):
        sys.exit(f"--loops: {args.loops!r}; choose from {', '.join(LOOPS)}")
    measured = {}
    for kind in servers:
        measured.update(run_server(kind, args, counts, researcher, tokens, loops=["two"] if kind == "reference" else loops))
    print("\nsummary (judgments/s, closed loop; CPU per judgment: web processes + PostgreSQL backends):")
    for n in counts:
        reference = measured.get(("reference", "two", n))
        for key in [("reference", "two"), *(("service", loop) for loop in loops)]:
            got = measured.get((*key, n))
            if got is None:
                continue
            ratio = f", {got['rate'] / reference['rate']:.2f}x the reference" if reference and key[0] == "service" else ""
            print(f"  N = {n:3d} {key[0]:9s} {key[1]}-request loop: {got['rate']:7.1f}{ratio}; "
                  f"CPU {got['web_ms']:.1f} + {got['db_ms']:.1f} ms; load {got['load']}")  # fmt: skip


def run_server(kind, args, counts, researcher, tokens, loops):
    """Start gunicorn on `kind` (service or reference), run every load shape with each loop, stop it.
    Returns {(kind, loop, N): {rate, web_ms, db_ms, load}} of the closed-loop runs."""
    import dj_database_url
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "bench-" + "x" * 40, "ALLOWED_HOSTS": "127.0.0.1",
           "GUNICORN_BIND": f"127.0.0.1:{args.port}", "WEB_CONCURRENCY": str(args.web), "GUNICORN_ACCESSLOG": "",
           "SECURE_COOKIES": "0", "LOG_LEVEL": "WARNING"}  # fmt: skip
    app = {"service": "qa.wsgi", "reference": "bench.reference_app:application"}[kind]
    if kind == "service" and args.stack:
        command = [sys.executable, "manage.py", "serve", "--no-migrate", "--no-gpu-worker", "--host", "127.0.0.1",
                   "--port", str(args.port), "--web", str(args.web), "--concurrency", "1"]  # fmt: skip
        env["GUNICORN_ACCESSLOG"] = ""
    else:
        command = [sys.executable, "-m", "gunicorn", app, "-c", "deploy/gunicorn.conf.py"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    database = dj_database_url.parse(os.environ["DATABASE_URL"])["NAME"]
    rates = {}
    try:
        if kind == "service" and args.stack:
            deadline = time.monotonic() + 180  # until /healthz reports the database and the broker
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=3)
                    conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline, "manage.py serve did not become ready"
                time.sleep(0.5)
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        # Warm every gunicorn worker (Django loads the URLconf and the API modules on the first
        # request a process serves): batch 0 does not exist, so each call is a cheap 204.
        # On a loaded machine a worker's first request can take long: wait for it, not the load's timeout.
        warm = Client(args.port, tokens[0])
        warm.conn.timeout = 300
        for _ in range(20 * args.web):
            warm.post("/api/v1/assignments/next", {"batch": 0})
        print(f"\n=== server: {kind} ({app}{', through manage.py serve' if kind == 'service' and args.stack else ''}) ===")
        if kind == "reference":
            print(
                "  (the reference app does not mark batches completed: that invariant is not checked for it)"
            )
        with mp.Pool(args.procs) as pool:
            for n in counts:
                for loop in loops:
                    batch = make_batch(researcher, args.items, args.k, f"{kind}-{loop}-closed-{n}")
                    shares = [tokens[i : n : args.procs] for i in range(args.procs)]
                    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
                    cpu = cpu_snapshot(server.pid, database)
                    start = time.perf_counter()
                    parts = pool.map(
                        closed_loop,
                        [(args.port, s, batch.pk, args.seconds, i, loop) for i, s in enumerate(shares) if s],
                    )
                    elapsed = time.perf_counter() - start
                    web, db = cpu_used(cpu, cpu_snapshot(server.pid, database))
                    total = merge(parts)
                    ok = max(total["ok"], 1)
                    got = rates[(kind, loop, n)] = {
                        "rate": total["ok"] / elapsed, "web_ms": 1000 * web / ok, "db_ms": 1000 * db / ok, "load": load,
                    }  # fmt: skip
                    problems = check_invariants(batch, batch_status=kind == "service")
                    print(f"\nclosed loop, N = {n}, {kind}, {LOOPS[loop]}: {got['rate']:7.1f} judgments/s "
                          f"({total['ok']} in {elapsed:.1f} s), errors {len(total['errors'])}; CPU per judgment: "
                          f"web {got['web_ms']:.1f} ms, PostgreSQL {got['db_ms']:.1f} ms; load average before {load}")  # fmt: skip
                    _print_latencies(loop, total)
                    print(f"  invariants: {'intact' if not problems else problems[:5]}")
                    for e in total["errors"][:3]:
                        print("  error:", e)
            if args.rate > 0:
                for loop in loops:
                    batch = make_batch(researcher, args.items, args.k, f"{kind}-{loop}-open")
                    shares = [tokens[i :: args.procs] for i in range(args.procs)]
                    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
                    cpu = cpu_snapshot(server.pid, database)
                    parts = pool.map(
                        open_loop,
                        [
                            (args.port, s, batch.pk, args.seconds, args.rate / args.procs, i, loop)
                            for i, s in enumerate(shares)
                        ],
                    )
                    web, db = cpu_used(cpu, cpu_snapshot(server.pid, database))
                    total = merge(parts)
                    elapsed = max(p["elapsed"] for p in parts)
                    ok = max(total["ok"], 1)
                    problems = check_invariants(batch, batch_status=kind == "service")
                    print(f"\nopen loop at {args.rate:.0f} arrivals/s ({kind}, {LOOPS[loop]}): {total['ok'] / elapsed:6.1f} judgments/s, "
                          f"errors {len(total['errors'])}, late arrivals {sum(p['late'] for p in parts)}; CPU per judgment: "
                          f"web {1000 * web / ok:.1f} ms, PostgreSQL {1000 * db / ok:.1f} ms; load average before {load}")  # fmt: skip
                    _print_latencies(loop, total)
                    print(f"  invariants: {'intact' if not problems else problems[:5]}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        redis.Redis.from_url(BROKER).flushdb()
    return rates


if __name__ == "__main__":
    main()

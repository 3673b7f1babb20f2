"""Issue #9's proof: while researchers create 1,000 accounts at a time and a fuzzer sends hostile
requests, an honest worker's claim and submit still answer. Measured, not asserted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evals_qa_hostile_bench .venv/bin/python bench/hostile_load.py

Starts the one-command stack (manage.py serve, what bin/serve runs: gunicorn with 3 sync workers, a
default-queue Celery worker and beat; DEBUG=0) on a free loopback port against a PostgreSQL database of
its own (dropped and created; its name must contain "bench") and a Redis db (--redis, default db 12,
flushed) that is both the broker and the cache holding the failed-login counters, as in production.
N honest workers (--workers, default 10), each its own account, token and keep-alive connection, loop
claim, submit, think (--think seconds, default 0.5) on a running batch, in one load-generator process,
through four phases of --seconds each (default 20):

1. baseline: the honest workers alone;
2. accounts: --researchers researchers (default 2) each POST /api/v1/workers {"count": 1000} in a loop;
3. fuzzer: --fuzzers threads (default 4) send hostile requests as fast as they are answered, one
   connection each: JSON nested 1,000 deep (to /api/v1/auth/token without login, and to a worker
   endpoint), NUL in ?q= and in the entry link's PROLIFIC_PID, the platform's unfilled placeholders,
   2^31 and 2^63 in every batch number, full-width user names, a 300-character generator, a 2 MiB JSON
   body, a 3 MiB upload against UPLOAD_MAX_BYTES = 1 MiB, a 2^70 id in a path, and wrong passwords to
   /api/v1/auth/token (throttled to 429 with Retry-After);
4. both: the account creation and the fuzzer together, as the issue's proof states it.
(--phases also offers fuzzer-no-passwords: the fuzzer without the wrong passwords, to tell the cost
of the password hashing that a login attempt does until the throttle stops it from the rest.)

The disturbance starts 2 s before the phase's honest window and stops after it. Prints, per phase,
claim, submit and claim + submit p50/p95/p99 and errors, the ratio of each phase's p99 against the
baseline's, what the disturbance got (statuses, accounts made), any 5xx, and the batch's invariants.
The load generator runs on the same machine (the honest workers and each disturbance in processes
of their own).
"""

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import annotation_loop as loop  # noqa: E402
from bench import stack_load  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/evals_qa_hostile_bench"
UPLOAD_LIMIT = 1024 * 1024  # UPLOAD_MAX_BYTES of the stack under test
PHASES = ("baseline", "accounts", "fuzzer", "both")
# Not run by default: the fuzzer without its wrong passwords, to see what the password hashing costs.
EXTRA_PHASES = ("fuzzer-no-passwords",)


def nested(depth: int) -> bytes:
    return ('{"a": ' * depth + "1" + "}" * depth).encode()


def hostile_requests(ctx: dict) -> list[tuple]:
    """(name, method, path, body, headers): what a fuzzer and a careless user send."""
    researcher = {"Authorization": f"Token {ctx['fuzz_researcher']}", "Content-Type": "application/json"}
    worker = {"Authorization": f"Token {ctx['fuzz_worker']}", "Content-Type": "application/json"}
    anonymous = {"Content-Type": "application/json"}
    huge = {"name": "huge", "datasets": [ctx["dataset"]], "sample_size": 2**63, "overlap": 2**31,
            "lease_seconds": 2**31, "seed": 2**63, "quota_per_worker": 2**63}  # fmt: skip
    upload, upload_type = stack_load.multipart({"big.jsonl": stack_load.persona_file(3 * UPLOAD_LIMIT // 260, "big")})
    assert len(upload) > 2.5 * UPLOAD_LIMIT
    entry = f"/enter/{ctx['entry_token']}/"
    return [
        ("deep JSON, token, no login", "POST", "/api/v1/auth/token", nested(1000), anonymous),
        ("deep JSON, claim", "POST", "/api/v1/assignments/next", nested(1000), worker),
        ("NUL in ?q=", "GET", f"/api/v1/datasets/{ctx['dataset']}/examples/?q=a%00b", None, researcher),
        ("NUL in PROLIFIC_PID", "GET", f"{entry}?PROLIFIC_PID=p%00&STUDY_ID=s&SESSION_ID=x", None, {}),
        ("placeholders in entry link", "GET", f"{entry}?PROLIFIC_PID=%7B%7B%25PROLIFIC_PID%25%7D%7D&STUDY_ID=%7B%7B%25STUDY_ID%25%7D%7D", None, {}),  # fmt: skip
        ("2^63 in batch numbers", "POST", "/api/v1/batches/", json.dumps(huge).encode(), researcher),
        ("full-width user name", "POST", "/api/v1/workers", json.dumps({"usernames": ["ｂｅｎｃｈ－ｗｏｒｋｅｒ－1"]}).encode(), researcher),  # fmt: skip
        ("300-char generator", "POST", "/api/v1/runs/", json.dumps({"pipeline": "persona", "behavior": "b", "generator": "g" * 300}).encode(), researcher),  # fmt: skip
        ("2^70 id in path", "GET", f"/api/v1/batches/{2**70}/", None, researcher),
        ("2 MiB JSON body", "POST", "/api/v1/assignments/next", b'{"batch": 1, "x": "' + b"a" * (2 * 1024 * 1024) + b'"}', worker),  # fmt: skip
        ("3 MiB upload", "POST", "/api/v1/imports/", upload, {"Authorization": researcher["Authorization"], "Content-Type": upload_type}),  # fmt: skip
        ("wrong password", "POST", "/api/v1/auth/token", None, anonymous),  # body made per request
    ]


def fuzzer(args) -> dict:
    """--fuzzers threads cycling through hostile_requests until the wall-clock `until`."""
    port, ctx, threads, until, seed, passwords = args
    catalogue = [r for r in hostile_requests(ctx) if passwords or r[0] != "wrong password"]
    statuses: Counter = Counter()
    retry_after, server_errors, lock = 0, [], threading.Lock()
    seconds: list[float] = []
    by_name: dict[tuple, list[float]] = {}  # (name, status): seconds

    def run(i):
        nonlocal retry_after
        rng = random.Random(seed * 100 + i)
        k = i
        while time.time() < until:
            name, method, path, body, headers = catalogue[k % len(catalogue)]
            k += 1
            if name == "wrong password":
                # Half at one account (throttled after LOGIN_FAILURES_PER_ACCOUNT), half at names that
                # do not exist (Django hashes for those too; throttled per address after LOGIN_FAILURES_PER_ADDRESS).
                body = json.dumps({"username": rng.choice(["bench-victim", f"nobody{k}"]),
                                   "password": f"guess-{rng.random()}"}).encode()  # fmt: skip
            status, answer_headers, data, took = stack_load.request(port, method, path, body, headers)
            with lock:
                statuses[(name, status)] += 1
                seconds.append(took)
                by_name.setdefault((name, status), []).append(took)
                if status == 429 and "Retry-After" in answer_headers:
                    retry_after += 1
                if status >= 500:
                    server_errors.append(f"{name}: {status} {data[:200]!r}")

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return {"statuses": statuses, "retry_after": retry_after, "server_errors": server_errors, "seconds": seconds,
            "by_name": by_name}


def account_maker(args) -> dict:
    """Each researcher token in a thread: POST /api/v1/workers {"count": 1000} until `until`."""
    port, tokens, until = args
    results, lock, bodies = [], threading.Lock(), {}

    def run(token):
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        while time.time() < until:
            status, _, data, took = stack_load.request(port, "POST", "/api/v1/workers", b'{"count": 1000}', headers, timeout=120)  # fmt: skip
            made = len(json.loads(data)["workers"]) if status == 201 else 0
            with lock:
                results.append((status, made, took))
                if status != 201:
                    bodies.setdefault(status, data[:300].decode(errors="replace"))

    pool = [threading.Thread(target=run, args=(t,)) for t in tokens]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return {"results": results, "bodies": bodies}


def seed(n_workers: int, n_researchers: int, items: int, k: int) -> dict:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from qa.roles import RESEARCHER, user_add_role

    researcher, tokens = loop.make_accounts(n_workers + 1)  # the last worker is the fuzzer's
    batch = loop.make_batch(researcher, items, k, "hostile")
    User = get_user_model()
    researchers = []
    for i in range(n_researchers + 1):  # the last researcher is the fuzzer's
        user = User.objects.create_user(f"bench-account-maker-{i}")
        user_add_role(user=user, role=RESEARCHER)
        researchers.append(Token.objects.create(user=user).key)
    User.objects.create_user("bench-victim", password="the-right-password-" + "x" * 20)
    return {
        "batch": batch,
        "honest": tokens[:n_workers],
        "makers": researchers[:-1],
        "ctx": {"fuzz_researcher": researchers[-1], "fuzz_worker": tokens[-1], "dataset": batch.datasets.get().pk,
                "entry_token": batch.entry_token},  # fmt: skip
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=10, help="Honest workers.")
    parser.add_argument("--think", type=float, default=0.5, help="Mean seconds an honest worker waits between judgments.")
    parser.add_argument("--seconds", type=float, default=20, help="Honest measuring window per phase.")
    parser.add_argument("--researchers", type=int, default=2, help="Researchers creating 1,000 accounts at a time.")
    parser.add_argument("--fuzzers", type=int, default=4, help="Fuzzer threads.")
    parser.add_argument("--web", type=int, default=3, help="gunicorn worker processes.")
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--phases", default=",".join(PHASES), help="Which phases to run, of " + ", ".join(PHASES + EXTRA_PHASES) + " (baseline always runs first).")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12", help="Broker and cache (flushed).")
    args = parser.parse_args()

    import redis

    print(f"load average at start: {stack_load.load_average()}  ({time.strftime('%H:%M:%S UTC', time.gmtime())})")
    url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    loop.fresh_database(url)
    redis.Redis.from_url(args.redis).flushdb()
    loop.BROKER = args.redis  # setup_django points this process's Celery there
    loop.setup_django(url)
    seeded = seed(args.workers, args.researchers, args.items, args.k)
    from django.db import connections

    connections.close_all()  # before the load generator forks
    env = {"CACHE_URL": args.redis, "UPLOAD_MAX_BYTES": str(UPLOAD_LIMIT), "WEB_CONCURRENCY": str(args.web)}
    stack = stack_load.start_stack(url, args.redis, env, "--no-gpu-worker", web=args.web)
    port = stack.port
    print(f"stack: manage.py serve on 127.0.0.1:{port}, gunicorn {args.web} sync workers, a default-queue Celery "
          f"worker (concurrency 1) and beat; {args.workers} honest workers, think {args.think} s; {args.seconds:.0f} s per phase")  # fmt: skip
    try:
        # Warm every gunicorn worker (the first request of a process loads the URLconf and the API).
        warm = stack_load.Client(port, seeded["honest"][0])
        for _ in range(20 * args.web):
            warm.post("/api/v1/assignments/next", {"batch": 0})
        results = {}
        ctx = mp.get_context("fork")
        with ctx.Pool(3) as pool:
            phases = ["baseline"] + [p for p in args.phases.split(",") if p in PHASES + EXTRA_PHASES and p != "baseline"]
            for phase in phases:
                start = time.time() + 2.0  # the disturbance is in full swing before the honest window
                end = start + args.seconds
                side = []
                if phase in ("accounts", "both"):
                    side.append(("accounts", pool.apply_async(account_maker, ((port, seeded["makers"], end),))))
                if phase in ("fuzzer", "both", "fuzzer-no-passwords"):
                    fuzz = (port, seeded["ctx"], args.fuzzers, end, 1, phase != "fuzzer-no-passwords")
                    side.append(("fuzzer", pool.apply_async(fuzzer, (fuzz,))))
                if side:
                    time.sleep(max(0.0, start - time.time()))
                else:
                    start, end = time.time(), time.time() + args.seconds
                honest = pool.apply(
                    stack_load.honest_workers, ((port, seeded["honest"], [seeded["batch"].pk], end, args.think, 7),)
                )
                results[phase] = (stack_load.summarize(honest), {name: r.get() for name, r in side})
                report(phase, *results[phase], baseline=results["baseline"][0])
        problems = loop.check_invariants(seeded["batch"])
        print(f"\ninvariants of the honest workers' batch: {'intact' if not problems else problems[:5]}")
        print("\np99 of each phase against the baseline's (claim / submit / claim + submit):")
        base = results["baseline"][0]
        for phase in phases:
            s = results[phase][0]
            ratios = " / ".join(f"{s[k]['p99'] / base[k]['p99']:.2f}" for k in ("next", "judgment", "pair"))
            errors = sum(s[k]["errors"] for k in ("next", "judgment"))
            print(f"  {phase:<9} {ratios}   (p99 {s['pair']['p99']:.0f} ms, {errors} honest errors)")
        restarts = [line.strip() for line in stack.lines if "starting it again" in line]
        print(f"serve restarted a Celery process: {restarts or 'no'}")
    finally:
        stack.stop()
        redis.Redis.from_url(args.redis).flushdb()
        print(f"load average at end: {stack_load.load_average()}  ({time.strftime('%H:%M:%S UTC', time.gmtime())})")


def report(phase: str, honest: dict, side: dict, baseline: dict) -> None:
    print(f"\n=== phase: {phase} ===")
    for kind, name in (("next", "claim"), ("judgment", "submit"), ("pair", "claim + submit")):
        print(stack_load.line(name, honest[kind]) + f"   p99 / baseline {honest[kind]['p99'] / baseline[kind]['p99']:.2f}")
    if "accounts" in side:
        rows = side["accounts"]["results"]
        made = sum(m for _, m, _ in rows)
        took = sorted(t for _, _, t in rows)
        statuses = Counter(s for s, _, _ in rows)
        print(f"  account creation: {len(rows)} requests of 1,000, {made:,} accounts made, statuses {dict(statuses)}, "
              f"each {took[0]:.2f} to {took[-1]:.2f} s" if rows else "  account creation: no request finished")  # fmt: skip
        for status, body in side["accounts"]["bodies"].items():
            print(f"    {status}: {body}")
    if "fuzzer" in side:
        f = side["fuzzer"]
        total = sum(f["statuses"].values())
        by_status = Counter()
        for (_, status), n in f["statuses"].items():
            by_status[status] += n
        print(f"  fuzzer: {total} hostile requests, statuses {dict(sorted(by_status.items()))}, "
              f"429 with Retry-After {f['retry_after']}, 5xx {len(f['server_errors'])}, p50 {stack_load.pick(f['seconds'], 0.5):.0f} ms")  # fmt: skip
        for (name, status), took in sorted(f["by_name"].items()):
            print(f"    {name:<28} {status} x {len(took):<4} p50 {stack_load.pick(took, 0.5):6.0f} ms, max {max(took) * 1000:6.0f} ms")
        for e in f["server_errors"][:5]:
            print("    5xx:", e)


if __name__ == "__main__":
    main()

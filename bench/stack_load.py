"""Shared by bench/hostile_load.py and bench/broker_recovery.py: the one-command stack (manage.py
serve, started as the fault tests start it: tests/faults/stack.py), a private redis-server, honest
workers that claim and submit with a think time, and latency summaries.

The database, accounts and batches come from bench/annotation_loop.py's helpers (fresh_database,
setup_django, make_accounts, make_batch, check_invariants); its Client is the worker's keep-alive
connection, here made to survive a connection error (counted as status 0) instead of raising."""

import http.client
import json
import os
import random
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import annotation_loop as loop  # noqa: E402
from tests.faults.stack import PrivateRedis  # noqa: E402,F401  (the benchmarks' broker)


def load_average() -> str:
    """`uptime`'s three load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client(loop.Client):
    """annotation_loop's worker connection; a connection error is status 0 and the next call reconnects."""

    def __init__(self, port, token):
        super().__init__(port, token)
        self.port = port

    def post(self, path, body):
        start = time.perf_counter()
        try:
            return super().post(path, body)
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return 0, repr(error).encode(), time.perf_counter() - start


def honest_workers(args) -> list[tuple]:
    """Each token a worker in its own thread: claim, submit, think, until the wall-clock `until`.
    Returns (wall time at start, "next" | "judgment" | "pair", status, seconds) per request; a
    "pair" row is claim + submit of one judgment (status of the submit)."""
    port, tokens, batch_ids, until, think, seed = args
    records: list[tuple] = []
    lock = threading.Lock()

    def run(i, token):
        client, rng = Client(port, token), random.Random(seed * 1000 + i)
        batch = batch_ids[i % len(batch_ids)]
        mine = []
        while time.time() < until:
            began = time.time()
            status, data, claim_s = client.post("/api/v1/assignments/next", {"batch": batch})
            mine.append((began, "next", status, claim_s))
            if status != 200:
                if status == 204:  # the batch is done: nothing left to measure for this worker
                    break
                time.sleep(think or 0.2)
                continue
            assignment = json.loads(data)
            body = {"relevance": rng.randint(1, 5), "answer": rng.choice(assignment["choices"]),
                    "ambiguous": rng.random() < 0.1, "idempotency_key": f"{assignment['id']}-{rng.random()}"}  # fmt: skip
            submitted = time.time()
            status, data, submit_s = client.post(f"/api/v1/assignments/{assignment['id']}/judgment", body)
            mine.append((submitted, "judgment", status, submit_s))
            mine.append((began, "pair", status, claim_s + submit_s))
            if think:
                time.sleep(rng.uniform(0.5 * think, 1.5 * think))
        with lock:
            records.extend(mine)

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return records


OK = {"next": (200, 204), "judgment": (201,), "pair": (201,)}


def pick(values: list[float], q: float) -> float:
    ms = sorted(v * 1000 for v in values)
    return ms[min(len(ms) - 1, int(q * len(ms)))] if ms else float("nan")


def summarize(records, since: float = 0, until: float = float("inf")) -> dict:
    """Per kind: count, errors (any status but the expected ones), p50/p95/p99 in ms."""
    out = {}
    for kind in ("next", "judgment", "pair"):
        rows = [r for r in records if r[1] == kind and since <= r[0] < until]
        seconds = [r[3] for r in rows]
        errors = [r[2] for r in rows if r[2] not in OK[kind]]
        out[kind] = {"n": len(rows), "errors": len(errors), "error_statuses": sorted(set(errors)),
                     "p50": pick(seconds, 0.5), "p95": pick(seconds, 0.95), "p99": pick(seconds, 0.99)}  # fmt: skip
    return out


def line(name: str, s: dict) -> str:
    errors = f"{s['errors']} errors" + (f" (statuses {s['error_statuses']})" if s["errors"] else "")
    return f"  {name:<14} n {s['n']:5d}  p50 {s['p50']:7.1f} ms  p95 {s['p95']:7.1f} ms  p99 {s['p99']:7.1f} ms  {errors}"


class TimedLines(list):
    """The stack's output lines, with the wall-clock time each arrived in `times`."""

    def __init__(self, lines):
        super().__init__(lines)
        self.times = [time.time()] * len(lines)

    def append(self, line):
        self.times.append(time.time())
        super().append(line)


def start_stack(db_url: str, broker_url: str, env: dict, *args: str, web: int = 3):
    """manage.py serve as the fault tests run it (a free port, DEBUG=0, production settings), with
    `env` added to its environment; returns tests.faults.stack.Serve once /healthz answers. Its
    `lines` (serve's output and its children's, unbuffered) carry their arrival times."""
    from tests.faults.stack import Serve

    os.environ.update(env)
    stack = Serve(db_url, broker_url, *args, web=web)
    stack.lines = TimedLines(stack.lines)
    try:
        stack.wait_ready(timeout=240)
    except BaseException:
        stack.stop()  # never leave a half-started stack behind
        raise
    return stack


def multipart(files: dict[str, bytes], fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body (every file under the field name "files") and its Content-Type."""
    boundary = f"bench{random.getrandbits(64):016x}"
    parts = []
    for name, value in (fields or {}).items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for filename, data in files.items():
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n")  # fmt: skip
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def persona_file(rows: int, tag: str) -> bytes:
    """A JSON-lines file of persona records, as the release writes them."""
    lines = []
    for i in range(rows):
        label = " Yes" if i % 2 else " No"
        record = {"question": f'Is the following statement something you would say?\n"Statement {tag} {i}"',
                  "statement": f"Statement {tag} {i}", "label_confidence": 0.9, "answer_matching_behavior": label,
                  "answer_not_matching_behavior": " No" if label == " Yes" else " Yes"}  # fmt: skip
        lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30) -> tuple[int, dict, bytes, float]:  # fmt: skip
    """One request on a connection of its own; a connection error is status 0 (headers empty)."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", "Connection": "close", **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), data, time.perf_counter() - start
    except (OSError, http.client.HTTPException) as error:
        return 0, {}, repr(error).encode(), time.perf_counter() - start
    finally:
        conn.close()

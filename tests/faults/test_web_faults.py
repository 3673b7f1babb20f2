"""Faults under load, through bin/serve's stack (manage.py serve) on PostgreSQL with a Redis broker:
a gunicorn worker killed with SIGKILL, and PostgreSQL restarted, while 10 workers claim and submit.

Each client retries what did not get an answer (a connection error, a 5xx) with the same
idempotency key, as the worker page does. Afterwards: every acknowledged judgment is stored exactly
once, and the counters equal the rows."""

import json
import os
import random
import signal
import threading
import time
import uuid

import pytest
from django.conf import settings

from tests.faults.stack import (
    Client,
    PrivatePostgres,
    Serve,
    database_create,
    database_drop,
    invariants,
    seed,
    stored_keys,
)

pytestmark = [pytest.mark.slow, pytest.mark.faults, pytest.mark.postgres]

WORKERS, ITEMS, K = 10, 400, 2


@pytest.fixture
def broker_url():
    if settings.DB_VENDOR != "postgresql" or not settings.CELERY_BROKER_URL:
        pytest.skip("needs DATABASE_URL=postgres://... and CELERY_BROKER_URL")
    return settings.CELERY_BROKER_URL


class Load:
    """WORKERS threads claiming and submitting until stopped or out of work; every answer recorded."""

    def __init__(self, url: str, tokens: list[str], batch: int):
        self.url, self.tokens, self.batch = url, tokens, batch
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked: set[str] = set()  # keys of submits answered 2xx
        self.attempted: set[str] = set()
        self.statuses: list[tuple[float, str, int]] = []  # (time, "next"|"judgment", status)
        self.server_errors: list[bytes] = []  # 5xx bodies
        self.unexpected: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(t, i)) for i, t in enumerate(tokens)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def _note(self, kind, status, body):
        with self.lock:
            self.statuses.append((time.monotonic(), kind, status))
            if status >= 500:
                self.server_errors.append(body)

    def _run(self, token, i):
        client, rng = Client(self.url, token), random.Random(i)
        while not self.stop.is_set():
            status, body = client.post("/api/v1/assignments/next", {"batch": self.batch})
            self._note("next", status, body)
            if status == 204:
                return
            if status != 200:
                if status not in (0, 500, 502, 503):
                    self.unexpected.append(f"next {status} {body[:200]!r}")
                time.sleep(0.2)
                continue
            assignment = json.loads(body)
            key = uuid.uuid4().hex
            with self.lock:
                self.attempted.add(key)
            answer = {"relevance": rng.randint(1, 5), "answer": rng.choice(assignment["choices"]),
                      "ambiguous": False, "idempotency_key": key}  # fmt: skip
            for _ in range(100):  # the same key until the service answers
                status, body = client.post(f"/api/v1/assignments/{assignment['id']}/judgment", answer)
                self._note("judgment", status, body)
                if status in (200, 201):
                    with self.lock:
                        self.acked.add(key)
                    break
                if status not in (0, 500, 502, 503):
                    self.unexpected.append(f"judgment {status} {body[:200]!r}")
                    break
                time.sleep(0.2)

    def done(self) -> bool:
        return not any(thread.is_alive() for thread in self.threads)

    def summary(self) -> str:
        from collections import Counter

        return f"{len(self.acked)} acknowledged; answers {dict(Counter((k, s) for _, k, s in self.statuses))}"

    def ok_after(self, moment: float) -> int:
        return sum(1 for t, kind, status in self.statuses if t > moment and kind == "judgment" and status in (200, 201))


def _check(load: Load, db_url: str, batch: int):
    print(load.summary())  # shown with -rP: how many answers the fault turned into errors
    assert load.unexpected == []
    assert [body[:300] for body in load.server_errors if b"Traceback" in body or b'File "' in body] == []
    stored = stored_keys(db_url, batch)
    assert load.acked - stored == set(), "acknowledged judgments missing"
    assert stored - load.attempted == set()
    assert invariants(db_url, batch, K) == []


def test_sigkill_of_gunicorn_workers_during_claims_and_submits_loses_and_duplicates_nothing(broker_url):
    db_url = database_create(os.environ["DATABASE_URL"])
    data = seed(db_url, workers=WORKERS, items=ITEMS, k=K)
    serve = Serve(db_url, broker_url, "--no-gpu-worker", "--no-beat", web=3)
    try:
        serve.wait_ready()
        kills = 0
        with Load(serve.url, data["tokens"], data["batch"]) as load:
            time.sleep(2)
            for _ in range(8):
                victims = serve.web_workers()
                if victims:
                    os.kill(random.choice(victims), signal.SIGKILL)
                    kills += 1
                time.sleep(0.7)
            killed = time.monotonic()
            while load.ok_after(killed) < 20 and time.monotonic() < killed + 30 and not load.done():
                time.sleep(0.5)  # gunicorn replaces the killed workers
            assert load.ok_after(killed) >= 20 or load.done(), load.summary()
        assert serve.process.poll() is None, serve.output[-3000:]
        assert kills == 8
    finally:
        serve.stop()
    try:
        _check(load, db_url, data["batch"])
    finally:
        database_drop(db_url)


def test_postgresql_restarted_during_load_recovers_by_itself_and_loses_no_acknowledged_judgment(broker_url):
    postgres = PrivatePostgres()
    try:
        db_url = database_create(postgres.url)
        data = seed(db_url, workers=WORKERS, items=ITEMS, k=K)
        serve = Serve(db_url, broker_url, "--no-gpu-worker", "--no-beat", web=3)
        try:
            serve.wait_ready()
            with Load(serve.url, data["tokens"], data["batch"]) as load:
                time.sleep(3)
                postgres.restart()
                restarted = time.monotonic()
                deadline = restarted + 30
                while load.ok_after(restarted + 1) < 20 and time.monotonic() < deadline and not load.done():
                    time.sleep(0.5)
            assert load.ok_after(restarted + 1) >= 20, f"not recovered within 30 s: {load.summary()}"
            assert serve.process.poll() is None, serve.output[-3000:]
        finally:
            serve.stop()
        _check(load, db_url, data["batch"])
    finally:
        postgres.stop()

"""bin/serve (manage.py serve): the whole stack from one command, ready when /healthz says so, and
nothing left running after it stops."""

import json
import os
import signal
import time

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.faults.stack import (
    Client,
    Serve,
    alive,
    children,
    database_create,
    database_drop,
    descendants,
    seed,
)


def test_serve_refuses_to_start_without_a_database_url_and_a_broker(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    with pytest.raises(CommandError, match="DATABASE_URL and CELERY_BROKER_URL.*bin/start"):
        call_command("serve")


@pytest.fixture
def stack_database():
    if settings.DB_VENDOR != "postgresql" or not settings.CELERY_BROKER_URL:
        pytest.skip("needs DATABASE_URL=postgres://... and CELERY_BROKER_URL")
    url = database_create(os.environ["DATABASE_URL"])
    yield url
    database_drop(url)


@pytest.mark.slow
@pytest.mark.postgres
def test_serve_runs_the_stack_and_sigterm_leaves_no_process_behind(stack_database):
    data = seed(stack_database, workers=1, items=3, k=1)
    serve = Serve(stack_database, settings.CELERY_BROKER_URL)
    try:
        serve.wait_ready()
        started = descendants(serve.process.pid)
        names = serve.output
        assert all(f"started {name}" in names for name in ("web", "worker", "gpu-worker", "beat"))
        assert len(serve.web_workers()) == 2
        commands = [open(f"/proc/{pid}/cmdline").read().replace("\0", " ") for pid in started]
        gpu = [c for c in commands if "-Q gpu" in c]
        assert gpu and all("-c 1 --prefetch-multiplier 1" in c for c in gpu)
        assert any("-Q default" in c for c in commands) and any(" beat " in c for c in commands)

        client = Client(serve.url, data["tokens"][0])
        status, body = client.post("/api/v1/assignments/next", {"batch": data["batch"]})
        assert status == 200, body
        assignment = json.loads(body)
        answer = {"relevance": 4, "answer": assignment["choices"][0], "ambiguous": False, "idempotency_key": "k1"}
        status, body = client.post(f"/api/v1/assignments/{assignment['id']}/judgment", answer)
        assert status == 201, body

        client.conn.request("GET", "/healthz?PROLIFIC_PID=5f1e0a1b2c3d4e5f6a7b8c9d", headers={"Host": "127.0.0.1"})
        health = client.conn.getresponse()
        assert health.status == 200
        assert json.loads(health.read()) == {"ok": True, "database": "ok", "broker": "ok", "vendor": "postgresql"}
    finally:
        rc = serve.stop(signal.SIGTERM)
    assert rc == 0, serve.output[-3000:]
    assert "GET /healthz HTTP/1.1" in serve.output  # the access log is on, without the query string
    assert "5f1e0a1b2c3d4e5f6a7b8c9d" not in serve.output
    time.sleep(0.5)
    assert [pid for pid in started if alive(pid)] == []


def _child(serve, word: str) -> int:
    """serve's own child whose command line holds `word` (not one of that child's pool processes)."""
    for pid in children(serve.process.pid):
        if word in open(f"/proc/{pid}/cmdline").read().replace("\0", " "):
            return pid
    raise AssertionError(f"no child of serve runs {word!r}:\n{serve.output[-3000:]}")


def _wait_for(serve, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in serve.output:
        assert serve.process.poll() is None, f"serve exited {serve.process.returncode}:\n{serve.output[-3000:]}"
        assert time.monotonic() < deadline, f"no {text!r} after {timeout} s:\n{serve.output[-3000:]}"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.postgres
def test_serve_starts_a_dead_celery_process_again_and_stops_everything_when_the_web_dies(stack_database):
    """Celery 5.7 workers exit when the broker goes away: the site must keep serving, so serve
    starts them again; the web's end is the site's, so then serve stops all and exits 3."""
    seed(stack_database, workers=1, items=1, k=1)
    serve = Serve(stack_database, settings.CELERY_BROKER_URL, "--no-gpu-worker")
    try:
        serve.wait_ready()
        worker, beat = _child(serve, "-Q default"), _child(serve, " beat ")
        os.kill(worker, signal.SIGKILL)
        os.kill(beat, signal.SIGKILL)
        _wait_for(serve, f"worker (pid {worker}) exited")
        _wait_for(serve, f"beat (pid {beat}) exited")
        deadline = time.monotonic() + 60
        while serve.output.count("started worker") < 2 or serve.output.count("started beat") < 2:
            assert time.monotonic() < deadline, serve.output[-3000:]
            time.sleep(0.2)
        assert _child(serve, "-Q default") != worker and _child(serve, " beat ") != beat
        assert serve.process.poll() is None  # still serving

        started = descendants(serve.process.pid)
        os.kill(_child(serve, "gunicorn"), signal.SIGKILL)
        rc = serve.process.wait(timeout=60)
    finally:
        serve.stop()
    assert rc == 3, serve.output[-3000:]
    assert "web" in serve.output.split("stopping the rest")[0].splitlines()[-1]
    time.sleep(0.5)
    assert [pid for pid in started if alive(pid)] == []

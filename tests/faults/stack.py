"""Helpers for the fault tests: fresh databases, a private PostgreSQL, bin/serve's stack in a
subprocess, HTTP clients that survive connection errors, and the invariants checked in SQL."""

import glob
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_create(server_url: str) -> str:
    """A new empty database on the server of server_url; its URL."""
    name = f"evals_qa_faults_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(server_url, name)


def database_drop(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    try:
        with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.OperationalError:
        pass


def seed(db_url: str, workers: int, items: int, k: int, judged: int = 0) -> dict:
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "qa.settings"}
    out = subprocess.run([sys.executable, "-m", "tests.faults.seed", str(workers), str(items), str(k), str(judged)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb into a temp dir, a free port), so a test can restart it
    without touching the machine's cluster on 5432. Runs as the postgres user when we are root."""

    def __init__(self):
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            raise RuntimeError("no /usr/lib/postgresql/*/bin/initdb")
        self.bin = Path(binaries[-1]).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="evals-qa-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool, *args, check=True):
        command = [str(self.bin / tool), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=check)

    def _ctl(self, action, *extra):
        return self._run("pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *extra,
                         "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off")  # fmt: skip

    def start(self):
        self._ctl("start")

    def restart(self):
        self._ctl("restart", "-m", "fast")

    def stop(self):
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A redis-server of our own on a free port, without persistence (stopping it loses every
    message, the harshest case); never the machine's Redis on 6379."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def children(pid: int) -> list[int]:
    found = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            found += [int(p) for p in Path(task).read_text().split()]
        except OSError:
            pass
    return found


def descendants(pid: int) -> set[int]:
    seen, todo = set(), [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that is not ours to reap."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Serve:
    """`manage.py serve` (what bin/serve runs) in a subprocess on a free port, production settings."""

    def __init__(self, db_url: str, broker_url: str, *args: str, web: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.ready = threading.Event()
        env = {**os.environ, "DATABASE_URL": db_url, "CELERY_BROKER_URL": broker_url, "DEBUG": "0",
               "SECRET_KEY": "fault-tests-" + "x" * 40, "ALLOWED_HOSTS": "127.0.0.1,localhost",
               "SECURE_COOKIES": "0", "LOG_LEVEL": "WARNING", "QA_VAR_DIR": tempfile.mkdtemp(prefix="evals-qa-var-"),
               "STATIC_ROOT": tempfile.mkdtemp(prefix="evals-qa-static-")}  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(self.port), "--web", str(web),
             "--concurrency", "1", "--ready-timeout", "120", "--stop-timeout", "20", *args],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)
            if "is serving at" in line:
                self.ready.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_ready(self, timeout: float = 180):
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.5):
            assert self.process.poll() is None, f"serve exited {self.process.returncode}:\n{self.output[-4000:]}"
            assert time.monotonic() < deadline, f"serve not ready after {timeout} s:\n{self.output[-4000:]}"

    def web_workers(self) -> list[int]:
        """gunicorn's worker processes (children of its master, serve's child that runs qa.wsgi)."""
        for child in children(self.process.pid):
            if "gunicorn" in Path(f"/proc/{child}/cmdline").read_text():
                return children(child)
        return []

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


class Client:
    """One worker's keep-alive connection; a connection error comes back as status 0 and reconnects."""

    def __init__(self, url: str, token: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Host": "127.0.0.1"}
        self.conn = None

    def post(self, path: str, body: dict) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            self.conn.request("POST", path, body=json.dumps(body), headers=self.headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            self.conn = None
            return 0, repr(error).encode()


def invariants(db_url: str, batch_id: int, k: int) -> list[str]:
    """Counters equal rows (judgments and live leases), at most k judgments per item, no (item, worker)
    pair twice, no idempotency key stored twice."""
    problems = []
    with psycopg.connect(db_url) as conn:
        for item, counter, rows in conn.execute(
            "SELECT i.id, i.judgment_count, count(j.id) FROM annotation_item i "
            "LEFT JOIN annotation_judgment j ON j.item_id = i.id WHERE i.batch_id = %s GROUP BY i.id", [batch_id]
        ):
            if counter != rows:
                problems.append(f"item {item}: judgment_count {counter}, rows {rows}")
            if rows > k:
                problems.append(f"item {item}: {rows} judgments > k = {k}")
        for item, counter, live in conn.execute(
            "SELECT i.id, i.lease_count, count(a.id) FILTER (WHERE a.status = 'active') FROM annotation_item i "
            "LEFT JOIN annotation_assignment a ON a.item_id = i.id WHERE i.batch_id = %s GROUP BY i.id", [batch_id]
        ):
            if counter != live:
                problems.append(f"item {item}: lease_count {counter}, active assignments {live}")
        for key, n in conn.execute(
            "SELECT idempotency_key, count(*) FROM annotation_judgment WHERE batch_id = %s AND idempotency_key <> '' "
            "GROUP BY idempotency_key HAVING count(*) > 1", [batch_id]
        ):
            problems.append(f"idempotency key {key} stored {n} times")
    return problems


def stored_keys(db_url: str, batch_id: int) -> set[str]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT idempotency_key FROM annotation_judgment WHERE batch_id = %s", [batch_id])
        return {key for (key,) in rows}

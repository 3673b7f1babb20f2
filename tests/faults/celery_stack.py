"""A private Redis, Celery workers and beat, run as real processes against the test database,
with the faults an operator meets: Redis stopped and started again, a worker SIGKILLed.

Never the machine's Redis on 6379: a redis-server of our own on a free port, without
persistence (stopping it loses every message, the harshest case). A supervisor thread restarts
a worker that exits by itself, as systemd's Restart=always does in production."""

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.faults.stack import PrivateRedis


class Stack:
    def __init__(self, folder: Path, sweep_seconds: int):
        self.folder, self.sweep_seconds = folder, sweep_seconds
        self.redis = PrivateRedis()
        self.url = self.redis.url
        self.processes: dict[str, subprocess.Popen] = {}
        self.wanted: set[str] = set()
        self.exits: list[tuple[str, int, str]] = []  # (name, exit code, last lines of its log)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.supervisor = threading.Thread(target=self._supervise, daemon=True)
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": self.url,
            "WORK_SWEEP_SECONDS": str(sweep_seconds),
            "LOG_LEVEL": "INFO",
        }

    # --- Redis -----------------------------------------------------------------------------------
    def redis_start(self) -> None:
        self.redis.start()

    def redis_stop(self) -> None:
        self.redis.stop()

    # --- Celery ----------------------------------------------------------------------------------
    def _command(self, name: str) -> list[str]:
        celery = [sys.executable, "-m", "celery", "-A", "qa"]
        if name == "beat":
            return [*celery, "beat", "-s", str(self.folder / "beat-schedule"), "--max-interval", "1", "-l", "info"]
        return [*celery, "worker", "-Q", name, "-n", f"{name}@faults", "--pool", "solo", "-l", "info"]

    def start(self, name: str) -> None:
        """`default`, `gpu` (worker queues) or `beat`."""
        with self.lock:
            self.wanted.add(name)
            log = (self.folder / f"{name}.log").open("a")
            self.processes[name] = subprocess.Popen(
                self._command(name), cwd=settings.BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def kill(self, name: str) -> None:
        """SIGKILL, as the OOM killer or a lost machine does; the supervisor starts a new one."""
        with self.lock:
            process = self.processes[name]
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
            self.exits.append((name, process.returncode, "SIGKILLed by the test"))
        self.start(name)

    def log(self, name: str, lines: int = 30) -> str:
        path = self.folder / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def _supervise(self) -> None:
        while not self.stopping.wait(0.5):
            for name in list(self.wanted):
                with self.lock:
                    process = self.processes.get(name)
                    if process is None or process.poll() is None:
                        continue
                    self.exits.append((name, process.returncode, self.log(name, 15)))
                self.start(name)

    def __enter__(self):
        self.redis_start()
        self.supervisor.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.supervisor.join(5)
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.redis.stop()


def point_the_app_at(app, url: str) -> None:
    """This process sends through the private broker from now on."""
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


def redis_available() -> bool:
    return shutil.which("redis-server") is not None

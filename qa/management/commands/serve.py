"""`python manage.py serve` (bin/serve): the production stack on one machine, without Docker.

It refuses to start without DATABASE_URL and CELERY_BROKER_URL (the embedded default is bin/start),
migrates and collects static files, then starts gunicorn (deploy/gunicorn.conf.py), a Celery worker
for the `default` queue, one for the `gpu` queue (concurrency 1, prefetch 1) and Celery beat; it
waits until /healthz reports the database and the broker reachable and prints where it listens.

Ctrl-C or SIGTERM stops everything it started: each child runs in its own process group, gets
SIGTERM (gunicorn and Celery then finish their current requests and tasks), and whatever is still
alive after --stop-timeout seconds gets SIGKILL, group and all, so no gunicorn or Celery pool process
is left behind. Children are also asked by the kernel to get SIGTERM if this process dies.

A Celery worker or beat that exits on its own is started again, after a pause that doubles with
each quick failure (1 s up to 30 s; a run of a minute resets it): Celery 5.7 workers exit when the
broker goes away (see CELERY_BROKER_TRANSPORT_OPTIONS in qa/settings.py), and the site must keep
serving claims and submits through a broker outage while the work sweep finishes what they held.
gunicorn's master exiting is the site gone: serve stops the rest and exits with status 3, so that
whatever supervises it (systemd, a container runtime) restarts the whole stack. gunicorn itself
replaces a crashed web worker, and Celery's prefork pool a crashed pool process.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from qa.probe import probe

EXIT_CHILD_DIED = 3
EXIT_NOT_READY = 4
RESTARTED = ("worker", "gpu-worker", "beat")  # the web is the site: its end is the stack's
RESTART_PAUSE_MAX = 30.0
STABLE_SECONDS = 60.0


def _die_with_parent():  # runs in the child between fork and exec
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class Command(BaseCommand):
    help = "Run the production stack on one machine: gunicorn, Celery workers (default, gpu) and beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.getenv("HOST", "127.0.0.1"), help="Address gunicorn binds (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=int(os.getenv("PORT", "8000")), help="Port (default 8000).")
        parser.add_argument("--web", type=int, default=None, help="gunicorn worker processes (default WEB_CONCURRENCY or cores + 1).")
        parser.add_argument("--concurrency", type=int, default=None, help="Processes of the default-queue Celery worker (default: cores).")
        parser.add_argument("--no-gpu-worker", action="store_true", help="Do not start the gpu-queue worker (no generation runs, model evaluations or maps).")
        parser.add_argument("--no-beat", action="store_true", help="Do not start Celery beat (another host runs the one beat).")
        parser.add_argument("--no-migrate", action="store_true", help="Skip migrate and collectstatic.")
        parser.add_argument("--ready-timeout", type=float, default=90, help="Seconds to wait for /healthz (default 90).")
        parser.add_argument("--stop-timeout", type=float, default=30, help="Seconds between SIGTERM and SIGKILL on stop (default 30).")  # fmt: skip

    def handle(self, *args, **options):
        missing = [name for name in ("DATABASE_URL", "CELERY_BROKER_URL") if not os.getenv(name)]
        if missing:
            raise CommandError(
                f"serve runs the production stack and needs {' and '.join(missing)} in the environment "
                "(for example DATABASE_URL=postgres://user@host:5432/evals_qa CELERY_BROKER_URL=redis://host:6379/0). "
                "For a first look with the embedded SQLite database and in-process tasks, use bin/start."
            )
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            code = self._run(**options)
        finally:
            self._stop_all(options["stop_timeout"])
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if code:
            sys.exit(code)

    def _on_signal(self, signum, frame):
        self.stopping = True

    def _run(self, *, host, port, web, concurrency, no_gpu_worker, no_beat, no_migrate, ready_timeout, **options):
        if settings.DEBUG:
            self.stderr.write("Warning: DEBUG is on (error pages show tracebacks); set DEBUG=0 in production.")
        if not no_migrate:
            self.stdout.write("Migrating the database ...")
            call_command("migrate", interactive=False, verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)
        from django.db import connections

        connections.close_all()  # the children open their own

        env = {**os.environ, "GUNICORN_BIND": f"{host}:{port}", "PYTHONUNBUFFERED": "1"}
        if web:
            env["WEB_CONCURRENCY"] = str(web)
        python = sys.executable
        # Node names unique per port, so two stacks on one broker do not share a name.
        commands = {
            "web": [python, "-m", "gunicorn", "qa.wsgi", "-c", "deploy/gunicorn.conf.py"],
            "worker": [python, "-m", "celery", "-A", "qa", "worker", "-Q", "default", "-n", f"default-{port}@%h", "-l", "info"]
            + (["-c", str(concurrency)] if concurrency else []),
        }  # fmt: skip
        if not no_gpu_worker:
            commands["gpu-worker"] = [python, "-m", "celery", "-A", "qa", "worker", "-Q", "gpu", "-c", "1",
                                      "--prefetch-multiplier", "1", "-n", f"gpu-{port}@%h", "-l", "info"]  # fmt: skip
        if not no_beat:
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            schedule = settings.VAR_DIR / f"celerybeat-schedule-{port}"
            commands["beat"] = [python, "-m", "celery", "-A", "qa", "beat", "-s", str(schedule), "-l", "info"]
        self.commands, self.env = commands, env
        self.started_at: dict[str, float] = {}
        self.failures: dict[str, int] = {}
        self.restart_at: dict[str, float] = {}
        for name in commands:
            self._start(name)

        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        url = f"http://{shown}:{port}/"
        deadline = time.monotonic() + ready_timeout
        last = (0, b"")
        while True:
            if self.stopping:
                return 0
            if died := self._dead_child():
                return died
            last = probe(url + "healthz", timeout=3)
            if last[0] == 200:
                break
            if time.monotonic() > deadline:
                self.stderr.write(f"/healthz did not report ready within {ready_timeout:.0f} s; last answer: "
                                  f"{last[0]} {last[1][:300].decode(errors='replace')}")  # fmt: skip
                return EXIT_NOT_READY
            time.sleep(0.5)
        health = json.loads(last[1])
        self.stdout.write(
            f"\nevals-qa is serving at {url}  (API docs {url}api/docs/)\n"
            f"  database {health['database']} ({settings.DB_VENDOR}), broker {health['broker']}\n"
            f"  processes: {', '.join(f'{n} {p.pid}' for n, p in self.children.items())}\n"
            "  Ctrl-C stops everything.\n"
        )
        self.stdout.flush()
        while not self.stopping:
            if died := self._dead_child():
                return died
            time.sleep(0.5)
        return 0

    def _start(self, name: str) -> None:
        self.children[name] = subprocess.Popen(
            self.commands[name], cwd=settings.BASE_DIR, env=self.env, start_new_session=True, preexec_fn=_die_with_parent
        )
        self.started_at[name] = time.monotonic()
        self.stdout.write(f"  started {name:<10} pid {self.children[name].pid}")
        self.stdout.flush()

    def _dead_child(self) -> int:
        """EXIT_CHILD_DIED when the web is gone; a Celery process that died is started again."""
        now = time.monotonic()
        for name, child in list(self.children.items()):
            if name in self.restart_at:
                if now >= self.restart_at[name]:
                    del self.restart_at[name]
                    self._start(name)
                continue
            if child.poll() is None:
                continue
            if name not in RESTARTED:
                self.stderr.write(f"{name} (pid {child.pid}) exited with status {child.returncode}: stopping the rest.")
                return EXIT_CHILD_DIED
            self._signal_group(child, signal.SIGKILL)  # its pool processes, if any outlived it
            quick = now - self.started_at[name] < STABLE_SECONDS
            self.failures[name] = self.failures.get(name, 0) + 1 if quick else 1
            pause = min(RESTART_PAUSE_MAX, 2.0 ** (self.failures[name] - 1))
            self.restart_at[name] = now + pause
            self.stderr.write(
                f"{name} (pid {child.pid}) exited with status {child.returncode}: starting it again in {pause:.0f} s."
            )
        return 0

    def _stop_all(self, stop_timeout: float):
        if not self.children:
            return
        self.stdout.write("Stopping ...")
        for child in self.children.values():
            self._signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + stop_timeout
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        # Everything in each group: gunicorn's workers and Celery's pool processes too, even when
        # their parent already exited.
        for child in self.children.values():
            self._signal_group(child, signal.SIGKILL)
            child.wait()
        self.stdout.write("Stopped.")

    @staticmethod
    def _signal_group(child: subprocess.Popen, sig: int):
        try:
            os.killpg(child.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

"""Background work that heals itself: a message is only a wake-up, the job row is the state.

An enqueue that fails (broker down) is logged and left to the work sweep; a task claims its job
row before working on it (so a duplicate wake-up costs one UPDATE) and keeps a heartbeat on it
while it works; the sweep (qa.tasks.work_heal, every WORK_SWEEP_SECONDS) enqueues again every
job queued without a wake-up for a period, or running with a heartbeat older than 3 periods
(its worker died: SIGKILL, OOM, a lost broker connection). Used by generation's import jobs and
runs; reports keep the same rules with their own columns (analysis.services.reports_heal).
"""

import logging
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

log = logging.getLogger(__name__)

QUEUED, RUNNING, FAILED = "queued", "running", "failed"  # the job models' status values


def period() -> float:
    return settings.WORK_SWEEP_SECONDS


def stale_after() -> timedelta:
    """A running job whose heartbeat is older than this lost its worker."""
    return timedelta(seconds=3 * period())


def tasks_in_process() -> bool:
    """The embedded default: no broker, every task runs in the process that sends it."""
    from celery import current_app

    return bool(current_app.conf.task_always_eager)


def _eager(task) -> bool:
    return bool(task.app.conf.task_always_eager)


def send(task, *args) -> bool:
    """Enqueue now; False (logged) if the broker could not take it. In the embedded default the
    task runs here, and its errors are the caller's, as before."""
    if _eager(task):
        task.apply_async(args)
        return True
    try:
        task.apply_async(args)
    except Exception:  # the broker is down or unreachable: the sweep enqueues it later
        log.exception("could not enqueue %s%r; the work sweep will", task.name, args)
        return False
    return True


def send_on_commit(task, *args) -> None:
    """Enqueue once the caller's transaction commits, never failing the request that saved the job."""
    transaction.on_commit(lambda: send(task, *args))


def _dead(now) -> Q:
    return Q(status=RUNNING) & (Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - stale_after()))


def jobs_heal(model, task, *, now=None) -> list[int]:
    """Enqueue again the jobs of `model` that lost their message or their worker; returns their ids.
    A queued job is woken once a period after it was created, then every 3 periods while it
    waits (its wake-up may sit behind a long job in the queue: duplicates are no-ops)."""
    now = now or timezone.now()
    lost = Q(status=QUEUED) & (
        Q(heartbeat_at__isnull=True, created_at__lt=now - timedelta(seconds=period()))
        | Q(heartbeat_at__lt=now - stale_after())
    )
    woken = []
    for pk in model.objects.filter(lost | _dead(now)).order_by("pk").values_list("pk", flat=True):
        # Conditional, so that a worker claiming it meanwhile keeps it.
        if not model.objects.filter(lost | _dead(now), pk=pk).update(status=QUEUED, heartbeat_at=now):
            continue
        if send(task, pk):
            woken.append(pk)
        else:
            model.objects.filter(pk=pk, status=QUEUED).update(heartbeat_at=None)  # try at the next sweep
    return woken


def job_claim(model, pk: int) -> bool:
    """Take the job for this worker: queued, or running but abandoned. False if it is done,
    failed, cancelled, or held by a live worker (a duplicate wake-up)."""
    now = timezone.now()
    return bool(model.objects.filter(Q(status=QUEUED) | _dead(now), pk=pk).update(status=RUNNING, heartbeat_at=now))


class _Heartbeat(threading.Thread):
    def __init__(self, model, pk: int):
        super().__init__(name=f"heartbeat-{model._meta.model_name}-{pk}", daemon=True)
        self.model, self.pk, self.stopped = model, pk, threading.Event()

    def run(self):
        try:
            while not self.stopped.wait(max(0.2, period() / 4)):
                try:
                    self.model.objects.filter(pk=self.pk, status=RUNNING).update(heartbeat_at=timezone.now())
                except Exception:  # the database restarting: try again at the next beat
                    log.warning("heartbeat of %s %s failed", self.model._meta.model_name, self.pk, exc_info=True)
                    connection.close()
        finally:
            connection.close()


@contextmanager
def job_held(model, pk: int, *, task, transient: tuple = (), failed: dict | None = None):
    """Claim the job and keep its heartbeat while the block runs; yields whether it is ours.
    A `transient` error hands the job back as queued (the task's retry or the sweep runs it
    again); any other error marks it failed with the `failed` fields, unless the service already
    recorded a result."""
    if not job_claim(model, pk):
        log.info("%s %s is done or held by a live worker; nothing to do", model._meta.model_name, pk)
        yield False
        return
    beat = None if _eager(task) else _Heartbeat(model, pk)
    if beat:
        beat.start()
    try:
        yield True
    except transient:
        model.objects.filter(pk=pk, status=RUNNING).update(status=QUEUED, heartbeat_at=timezone.now())
        raise
    except Exception as exc:
        fields = {k: (v(exc) if callable(v) else v) for k, v in (failed or {}).items()}
        model.objects.filter(pk=pk, status=RUNNING).update(status=FAILED, finished_at=timezone.now(), **fields)
        raise
    finally:
        if beat:
            beat.stopped.set()
            beat.join()

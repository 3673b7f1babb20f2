"""What every model job (a generation run, a model evaluation) shares around its service: the
Celery task's options and error handling, and, run from a command, its progress bars and its
retries while the model's server is briefly away."""

import sys
import time

from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError
from tqdm import tqdm

from generation.backends import TransientBackendError
from qa.work import job_held

# The task: a killed worker's job is redelivered (the service resumes it); a model server that is
# briefly away is retried with backoff before the job waits for the work sweep.
TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (TransientBackendError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
    "ignore_result": True,
}
TRANSIENT = (TransientBackendError, OperationalError, InterfaceError)  # the model or the database, back soon
FAILED = {"error": lambda exc: f"{type(exc).__name__}: {exc}"[:2000]}
COMMAND_ATTEMPTS = 6


def job_task_run(model, pk: int, *, task, execute) -> None:
    """The task's body: claim the job, keep its heartbeat, run `execute()` if it is ours."""
    with job_held(model, pk, task=task, transient=TRANSIENT, failed=FAILED) as mine:
        if mine:
            execute()


class ProgressBars:
    """A progress callback (name, done, total) drawing one tqdm bar per name on stderr."""

    def __init__(self, *, unit: str, file=None, width: int = 40):
        self.unit, self.file, self.width = unit, file or sys.stderr, width
        self.bars: dict[str, tqdm] = {}

    def __call__(self, name: str, done: int, total: int) -> None:
        bar = self.bars.get(name)
        if bar is None:
            # A line of its own per name (position), so that two models' bars do not overwrite each other.
            bar = self.bars[name] = tqdm(
                total=total, desc=name[-self.width :], unit=self.unit, file=self.file, position=len(self.bars)
            )
        bar.total, bar.n = total, done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def command_execute(execute, *, stderr, resume_hint: str):
    """Run a model job's service in the foreground, retrying with backoff while its model server is
    briefly away; the last failure is a CommandError that says how to resume."""
    for attempt in range(COMMAND_ATTEMPTS):
        try:
            return execute()
        except TransientBackendError as exc:
            if attempt == COMMAND_ATTEMPTS - 1:
                raise CommandError(f"{exc} ({resume_hint})") from None
            stderr.write(f"{exc}; retrying in {2**attempt} s")
            time.sleep(2**attempt)

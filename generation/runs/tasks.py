from celery import shared_task
from django.db import InterfaceError, OperationalError

from generation.backends import TransientBackendError
from generation.models import GenerationRun
from generation.runs import services
from qa.work import job_held


@shared_task(
    name="generation.runs.tasks.run_generation",
    bind=True,
    acks_late=True,  # a killed worker's run is redelivered; run_execute resumes it
    reject_on_worker_lost=True,
    autoretry_for=(TransientBackendError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
    ignore_result=True,
)
def run_generation(self, run_id: int) -> None:
    transient = (TransientBackendError, OperationalError, InterfaceError)  # the model or the database, back soon
    failed = {"error": lambda exc: f"{type(exc).__name__}: {exc}"[:2000]}
    with job_held(GenerationRun, run_id, task=run_generation, transient=transient, failed=failed) as mine:
        if mine:
            services.run_execute(run_id=run_id)

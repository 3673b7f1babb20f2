from celery import shared_task

from generation.backends import TransientBackendError
from generation.runs import services


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
    services.run_execute(run_id=run_id)

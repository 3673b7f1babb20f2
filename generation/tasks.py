"""Celery tasks of the generation app: thin, they load a job by id and call its service."""

from celery import shared_task

from generation import services


@shared_task(acks_late=True)
def import_job_run(job_id: int) -> None:
    # acks_late: a worker lost half way leaves the job to be redelivered; the import is idempotent.
    services.import_job_run(job_id=job_id)

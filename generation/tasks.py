"""Celery tasks of the generation app: thin, they claim a job by id and call its service."""

from celery import shared_task

from generation import services
from generation.models import ImportJob
from qa.work import job_held


@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_job_run(job_id: int) -> None:
    # acks_late + reject_on_worker_lost: a worker lost half way hands the message back; the
    # import is idempotent, and a job that a live worker holds is left alone (qa.work).
    with job_held(ImportJob, job_id, task=import_job_run) as mine:
        if mine:
            services.import_job_run(job_id=job_id)

from celery import shared_task
from django.db import InterfaceError, OperationalError

from analysis.evaluations import services
from analysis.models import Evaluation
from generation.backends import TransientBackendError
from qa.work import job_held


@shared_task(
    name="analysis.evaluations.tasks.run_evaluation",
    bind=True,
    acks_late=True,  # a killed worker's evaluation is redelivered; evaluation_execute resumes it
    reject_on_worker_lost=True,
    autoretry_for=(TransientBackendError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
    ignore_result=True,
)
def run_evaluation(self, evaluation_id: int) -> None:
    transient = (
        TransientBackendError,
        OperationalError,
        InterfaceError,
    )  # the model or the database, back soon
    failed = {"error": lambda exc: f"{type(exc).__name__}: {exc}"[:2000]}
    with job_held(Evaluation, evaluation_id, task=run_evaluation, transient=transient, failed=failed) as mine:
        if mine:
            services.evaluation_execute(evaluation_id=evaluation_id)

from celery import shared_task
from django.db import InterfaceError, OperationalError

from analysis.diversity import services
from analysis.diversity.models import DiversityMap
from qa.work import job_held


@shared_task(
    name="analysis.diversity.tasks.map_compute",
    acks_late=True,  # a killed worker's map is redelivered; map_execute resumes with what is not embedded
    reject_on_worker_lost=True,
    ignore_result=True,
)
def map_compute(map_id: int) -> None:
    transient = (OperationalError, InterfaceError)  # the database, back soon
    failed = {"error": lambda exc: f"{type(exc).__name__}: {exc}"[:2000]}
    with job_held(DiversityMap, map_id, task=map_compute, transient=transient, failed=failed) as mine:
        if mine:
            services.map_execute(map_id=map_id)

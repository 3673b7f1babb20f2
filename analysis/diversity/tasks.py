from celery import shared_task

from analysis.diversity import services
from analysis.diversity.models import DiversityMap
from generation.model_jobs import job_task_run


@shared_task(
    name="analysis.diversity.tasks.map_compute",
    acks_late=True,  # a killed worker's map is redelivered; map_execute resumes with what is not embedded
    reject_on_worker_lost=True,
    ignore_result=True,
)
def map_compute(map_id: int) -> None:
    # The claim, heartbeat and failure handling of every model job (generation.model_jobs).
    job_task_run(DiversityMap, map_id, task=map_compute, execute=lambda: services.map_execute(map_id=map_id))

from celery import shared_task

from generation.model_jobs import TASK_OPTIONS, job_task_run
from generation.models import GenerationRun
from generation.runs import services


@shared_task(name="generation.runs.tasks.run_generation", **TASK_OPTIONS)
def run_generation(self, run_id: int) -> None:
    job_task_run(GenerationRun, run_id, task=run_generation, execute=lambda: services.run_execute(run_id=run_id))

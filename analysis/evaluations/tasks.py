from celery import shared_task

from analysis.evaluations import services
from analysis.models import Evaluation
from generation.model_jobs import TASK_OPTIONS, job_task_run


@shared_task(name="analysis.evaluations.tasks.run_evaluation", **TASK_OPTIONS)
def run_evaluation(self, evaluation_id: int) -> None:
    job_task_run(
        Evaluation,
        evaluation_id,
        task=run_evaluation,
        execute=lambda: services.evaluation_execute(evaluation_id=evaluation_id),
    )

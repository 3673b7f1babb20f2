from celery import shared_task

from analysis.models import Report
from analysis.services import report_compute


@shared_task(acks_late=True, reject_on_worker_lost=True)
def report_compute_task(report_id: int) -> None:
    """Recompute one report. A redelivery recomputes it again, which is harmless."""
    report = Report.objects.filter(pk=report_id).select_related("batch", "dataset").first()
    if report is None:
        return
    report_compute(report=report)

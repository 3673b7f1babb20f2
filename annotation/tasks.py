from celery import shared_task

from annotation import services


@shared_task(name="annotation.tasks.leases_expire", ignore_result=True)
def leases_expire() -> int:
    """The periodic sweep (beat): return expired leases' slots even when nobody claims."""
    return services.leases_expire()


@shared_task(name="annotation.tasks.quality_evaluate", ignore_result=True, acks_late=True)
def quality_evaluate(batch_id: int) -> None:
    """Apply a batch's quality rules to its judgments. Idempotent: a redelivery stops nobody twice."""
    from annotation.services.quality import quality_evaluate as evaluate

    evaluate(batch_id=batch_id)

from celery import shared_task

from annotation import services


@shared_task(name="annotation.tasks.leases_expire", ignore_result=True)
def leases_expire() -> int:
    """The periodic sweep (beat): return expired leases' slots even when nobody claims."""
    return services.leases_expire()

"""The work sweep: one periodic task that wakes every kind of background work that lost its
message or its worker (see qa/work.py). Beat sends it every WORK_SWEEP_SECONDS."""

from celery import shared_task

from qa.sweep import work_heal as heal


@shared_task(ignore_result=True)
def work_heal() -> dict:
    return heal()

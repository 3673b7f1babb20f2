"""The work sweep: scheduled beside the lease sweep, it wakes every kind of lost work."""

import pytest
from django.conf import settings

from qa.celery import app
from tests.qa.test_settings import _run_settings


def test_beat_sends_the_work_sweep_every_work_sweep_seconds():
    entry = settings.CELERY_BEAT_SCHEDULE["heal-work"]
    assert entry == {"task": "qa.tasks.work_heal", "schedule": settings.WORK_SWEEP_SECONDS}
    assert "qa.tasks.work_heal" in app.tasks


def test_a_sweep_period_below_one_second_is_refused(tmp_path):
    result = _run_settings({"QA_VAR_DIR": str(tmp_path), "WORK_SWEEP_SECONDS": "0"})
    assert result.returncode != 0 and "WORK_SWEEP_SECONDS=0" in result.stderr


def test_redis_redelivers_an_unacknowledged_message_only_after_an_hour_by_default():
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == 3600


@pytest.mark.django_db
def test_the_sweep_task_reports_what_it_woke(eager_celery):
    from qa.tasks import work_heal

    assert work_heal.apply().get() == {
        "reports": [], "imports": [], "runs": [], "maps": [], "evaluations": [], "quality": []
    }  # fmt: skip


def test_tasks_that_are_safe_to_repeat_go_back_to_the_queue_when_their_worker_dies():
    from analysis.tasks import report_compute_task
    from generation.runs.tasks import run_generation
    from generation.tasks import import_job_run

    for task in (report_compute_task, import_job_run, run_generation):
        assert (task.name, task.acks_late, task.reject_on_worker_lost) == (task.name, True, True)

"""From a worker's submit in annotation to a fresh report in analysis, through the real services."""

import pytest

from analysis import services
from analysis.models import Report
from analysis.selectors import report_of
from analysis.services import report_compute
from tests.annotation.factories import judge, persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db


def test_a_submitted_judgment_marks_the_report_stale_and_a_recompute_counts_it(
    researcher, eager_celery, django_capture_on_commit_callbacks
):
    batch = running_batch(researcher, [persona_dataset(rows=4)], sample_size=None, overlap=3)
    crowd = workers(3)
    with django_capture_on_commit_callbacks(execute=True):
        judge(crowd[0], batch)
    report = report_compute(report=report_of(batch=batch))
    assert report.payload["batch"]["judgments"] == 1 and not report.stale
    with django_capture_on_commit_callbacks(execute=True):
        for worker in crowd:
            judge(worker, batch)
    report.refresh_from_db()
    assert report.stale and report.queued_at is None  # nothing computed on the worker's path
    report = report_compute(report=report)
    assert report.payload["batch"]["judgments"] == 4 and not report.stale


def test_with_a_broker_submits_enqueue_one_debounced_computation(
    researcher, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(services, "broker_runs_tasks", lambda: True)
    monkeypatch.setattr("analysis.tasks.report_compute_task.apply_async", lambda args, countdown: sent.append(args))
    batch = running_batch(researcher, [persona_dataset(rows=4)], sample_size=None, overlap=3)
    with django_capture_on_commit_callbacks(execute=True):
        for worker in workers(3):
            for _ in range(2):
                judge(worker, batch)
    report = Report.objects.get(scope=Report.Scope.BATCH, batch=batch)
    assert sent == [(report.pk,)]

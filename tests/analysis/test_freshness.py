"""Judgments changing mark the report stale; with a broker one computation is enqueued per burst."""

import pytest

from analysis import services
from analysis.models import Report
from analysis.selectors import report_of
from analysis.services import judgments_changed, report_compute
from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(researcher):
    return make_hand_batch(researcher)[0]


def test_the_signal_marks_the_report_stale_without_computing_in_the_embedded_default(batch, eager_celery):
    from annotation.signals import judgments_changed as signal

    report = report_compute(report=report_of(batch=batch))
    computed_at = report.computed_at
    signal.send(sender=None, batch_id=batch.pk)
    report.refresh_from_db()
    assert report.stale and report.computed_at == computed_at and report.queued_at is None


def test_a_burst_of_judgments_enqueues_one_computation(batch, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(services, "broker_runs_tasks", lambda: True)
    monkeypatch.setattr(
        "analysis.tasks.report_compute_task.apply_async", lambda args, countdown: sent.append((args, countdown))
    )
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(20):
            judgments_changed(batch_id=batch.pk)
    report = Report.objects.get(batch=batch)
    assert sent == [((report.pk,), services.DEBOUNCE_SECONDS)]
    assert report.stale and report.queued_at is not None
    # The task clears the flags and computes; the next change enqueues again.
    from analysis.tasks import report_compute_task

    report_compute_task.run(report.pk)
    report.refresh_from_db()
    assert not report.stale and report.queued_at is None and report.status == Report.Status.READY
    with django_capture_on_commit_callbacks(execute=True):
        judgments_changed(batch_id=batch.pk)
    assert len(sent) == 2


def test_a_report_of_an_empty_batch_is_answered_with_reasons(researcher):
    from annotation.models import Batch

    batch = Batch.objects.create(owner=researcher, name="empty", overlap=3, seed=1)
    report = report_compute(report=report_of(batch=batch))
    total = report.payload["batch"]
    assert total["examples"] == 0 and total["judgments"] == 0
    assert total["fleiss_kappa_answers"]["value"] is None
    assert total["fleiss_kappa_answers"]["undefined_reason"] == "no ratings"
    assert total["majority_agrees_with_label"]["value"] is None


def test_an_unreachable_broker_never_fails_the_workers_submit(batch, monkeypatch, django_capture_on_commit_callbacks):
    from annotation.signals import judgments_changed as signal

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(services, "broker_runs_tasks", lambda: True)
    monkeypatch.setattr("analysis.tasks.report_compute_task.apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        signal.send(sender=None, batch_id=batch.pk)  # does not raise
    report = Report.objects.get(batch=batch)
    assert report.stale and report.queued_at is None  # the next change tries again

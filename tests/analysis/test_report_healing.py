"""Reports are rows that say whether they are behind their judgments; a message only wakes a
worker. A lost message or a dead worker never leaves a report stale for long, and an unreachable
broker never fails a request."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from analysis import services
from analysis.models import Report
from analysis.selectors import report_of
from analysis.services import report_compute, reports_heal
from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db

TASK = "analysis.tasks.report_compute_task"


@pytest.fixture
def batch(researcher):
    return make_hand_batch(researcher)[0]


def _ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def test_a_lost_message_blocks_a_refresh_for_at_most_two_sweep_periods(
    batch, researcher, api, broker_up, django_capture_on_commit_callbacks
):
    report = report_compute(report=report_of(batch=batch))
    lost = _ago(2 * settings.WORK_SWEEP_SECONDS + services.DEBOUNCE_SECONDS + 1)
    Report.objects.filter(pk=report.pk).update(stale=True, changed_at=lost, queued_at=lost)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(researcher).post(f"/api/v1/batches/{batch.pk}/report")
    assert response.status_code == 202 and response.json()["computing"]
    assert broker_up == [(TASK, (report.pk,))]


def test_a_refresh_while_the_broker_is_down_answers_and_leaves_the_report_to_the_sweep(
    batch, researcher, api, broker_down, django_capture_on_commit_callbacks
):
    report = report_compute(report=report_of(batch=batch))
    Report.objects.filter(pk=report.pk).update(stale=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(researcher).post(f"/api/v1/batches/{batch.pk}/report")
    assert response.status_code == 202
    assert broker_down == [(TASK, (report.pk,))]
    report.refresh_from_db()
    assert report.stale and report.queued_at is None  # the sweep's to wake
    with django_capture_on_commit_callbacks(execute=True):
        reports_heal()
    assert len(broker_down) == 2  # the sweep tried again; still down, so the next one will too
    report.refresh_from_db()
    assert report.stale and report.queued_at is None


def test_the_sweep_wakes_every_report_behind_its_judgments_that_nothing_works_on(
    batch, broker_up, django_capture_on_commit_callbacks
):
    from annotation.models import Batch

    report_compute(report=report_of(batch=batch))  # fresh: left alone
    other = Batch.objects.create(owner=batch.owner, name="other", overlap=3, seed=1)
    stale_unqueued = report_of(batch=other)
    Report.objects.filter(pk=stale_unqueued.pk).update(stale=True, queued_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert reports_heal() == [stale_unqueued.pk]
    assert broker_up == [(TASK, (stale_unqueued.pk,))]
    assert reports_heal() == []  # queued now: one wake-up, not one per sweep


def test_the_sweep_wakes_a_report_whose_computation_died(batch, broker_up):
    # A computation clears the flag and marks itself in queued_at; its worker was SIGKILLed.
    report = report_compute(report=report_of(batch=batch))
    died = _ago(services.QUEUE_TIMEOUT_SECONDS + 1)
    Report.objects.filter(pk=report.pk).update(stale=False, changed_at=timezone.now(), queued_at=died)
    assert reports_heal() == [report.pk]


def test_the_sweep_leaves_a_report_being_computed(batch, broker_up):
    report = report_compute(report=report_of(batch=batch))
    Report.objects.filter(pk=report.pk).update(stale=False, changed_at=timezone.now(), queued_at=_ago(1))
    assert reports_heal() == []


def test_judgments_landing_during_a_computation_get_one_more(
    batch, broker_up, monkeypatch, django_capture_on_commit_callbacks
):
    report = report_of(batch=batch)
    real = services.build_report

    def judged_meanwhile(inputs):
        services.judgments_changed(batch_id=batch.pk)  # queued_at marks the computation: no enqueue
        assert broker_up == []
        return real(inputs)

    monkeypatch.setattr(services, "build_report", judged_meanwhile)
    with django_capture_on_commit_callbacks(execute=True):
        report_compute(report=report)
    report.refresh_from_db()
    assert report.stale and report.queued_at is not None
    assert broker_up == [(TASK, (report.pk,))]

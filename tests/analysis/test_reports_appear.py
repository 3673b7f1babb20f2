"""A researcher never presses a button to see numbers that exist: reading a report behind its
judgments brings it up to date (computed in-process on the embedded default, enqueued with a
broker while the page refreshes itself)."""

import pytest

from analysis import services
from analysis.models import Report
from analysis.selectors import report_of
from analysis.services import report_compute
from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(researcher, eager_celery):
    batch = make_hand_batch(researcher)[0]
    batch.status = "completed"
    batch.save(update_fields=["status"])
    return batch


def test_a_completed_batchs_report_page_shows_the_figures_without_a_compute_button(client, researcher, batch):
    client.force_login(researcher)
    page = client.get(f"/reports/batches/{batch.pk}/").content.decode()
    assert "Not computed yet" not in page and ">Compute<" not in page
    assert "Majority agrees with label" in page and "persona-x" in page
    assert Report.objects.get(batch=batch).status == Report.Status.READY


def test_a_report_whose_judgments_changed_is_recomputed_when_a_researcher_reads_it(client, researcher, batch):
    from annotation.signals import judgments_changed

    report = report_compute(report=report_of(batch=batch))
    judgments_changed.send(sender=None, batch_id=batch.pk)
    report.refresh_from_db()
    assert report.stale  # the worker's path only marked it
    client.force_login(researcher)
    assert "judgments have changed since" not in client.get(f"/reports/batches/{batch.pk}/").content.decode()
    report.refresh_from_db()
    assert not report.stale and report.computed_at > report.changed_at


def test_the_api_brings_a_dataset_report_up_to_date_as_well(api, researcher, batch):
    persona = batch.datasets.get(slug="persona-x")
    data = api(researcher).get(f"/api/v1/datasets/{persona.pk}/report").json()
    assert data["status"] == "ready" and data["stale"] is False


def test_with_a_broker_a_never_computed_report_is_enqueued_at_once_and_the_page_refreshes_itself(
    client, researcher, batch, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(services, "broker_runs_tasks", lambda: True)
    monkeypatch.setattr(
        "analysis.tasks.report_compute_task.apply_async", lambda args, countdown: sent.append((args, countdown))
    )
    client.force_login(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(f"/reports/batches/{batch.pk}/").content.decode()
    report = Report.objects.get(batch=batch)
    assert sent == [((report.pk,), 0)]
    assert 'http-equiv="refresh"' in page and "The first report is being computed" in page
    assert ">Compute<" not in page


def test_with_a_broker_an_export_before_the_first_computation_is_a_409_and_enqueues_it(
    api, researcher, batch, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(services, "broker_runs_tasks", lambda: True)
    monkeypatch.setattr(
        "analysis.tasks.report_compute_task.apply_async", lambda args, countdown: sent.append((args, countdown))
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api(researcher).get(f"/api/v1/batches/{batch.pk}/validated.meta.json")
    assert response.status_code == 409 and "being computed" in response.json()["error"]
    assert sent == [((Report.objects.get(batch=batch).pk,), 0)]

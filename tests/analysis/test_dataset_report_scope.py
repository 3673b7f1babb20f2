"""A dataset's report shows only the batches its reader may see: the researcher who made the
dataset does not read the workers and agreement of another researcher's batch on it."""

import pytest

from analysis.models import Report
from analysis.selectors import report_of
from analysis.services import judgments_changed, report_compute
from annotation.models import Batch
from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def persona(researcher, other_researcher, eager_celery):
    """Oscar made the dataset; Rita's private batch judged it."""
    batch = make_hand_batch(researcher)[0]
    dataset = batch.datasets.get(slug="persona-x")
    dataset.created_by = other_researcher
    dataset.save()
    return dataset


def test_the_datasets_creator_does_not_see_another_researchers_batch_in_its_report(api, other_researcher, persona):
    response = api(other_researcher).get(f"/api/v1/datasets/{persona.pk}/report")
    assert response.status_code == 200
    data = response.json()
    assert data["workers"] == [] and data["batch"]["judgments"] == 0
    workers_csv = api(other_researcher).get(f"/api/v1/datasets/{persona.pk}/report/workers.csv").content.decode()
    assert workers_csv.strip().count("\n") == 0  # the header only
    export = api(other_researcher).get(f"/api/v1/datasets/{persona.pk}/report/export.json").json()
    assert "w1" not in str(export) and export["examples"].get("example", []) == []
    validated = api(other_researcher).get(f"/api/v1/datasets/{persona.pk}/validated.jsonl")
    assert b"".join(validated.streaming_content) == b""


def test_the_batchs_owner_and_an_admin_see_its_judgments_in_the_dataset_report(api, researcher, admin_user, persona):
    for user in (researcher, admin_user):
        data = api(user).get(f"/api/v1/datasets/{persona.pk}/report").json()
        assert {w["username"] for w in data["workers"]} == {"w1", "w2", "w3"}
        assert data["datasets"][0]["examples"] == 4


def test_the_report_page_of_the_dataset_is_scoped_the_same_way(client, researcher, other_researcher, persona):
    # The worker table's cell, not the bare name: "w1" also turns up by chance inside the page's
    # random tokens (CSP nonce, CSRF token), which made this test fail now and then.
    cell = "<td>w1</td>"
    for reader, sees in ((researcher, True), (other_researcher, False)):
        client.force_login(reader)
        client.post(f"/reports/datasets/{persona.pk}/refresh")
        page = client.get(f"/reports/datasets/{persona.pk}/").content.decode()
        assert (cell in page) is sees


def test_each_reader_has_their_own_dataset_report(researcher, other_researcher, persona):
    mine = report_compute(report=report_of(dataset=persona, reader=researcher))
    theirs = report_compute(report=report_of(dataset=persona, reader=other_researcher))
    everyone = report_compute(report=report_of(dataset=persona))
    assert mine.pk != theirs.pk != everyone.pk
    assert (mine.judgments, theirs.judgments) == (everyone.judgments, 0) and everyone.judgments > 0
    assert Report.objects.filter(scope="dataset", dataset=persona).count() == 3


def test_a_judgment_marks_every_readers_dataset_report_stale(researcher, other_researcher, persona):
    batch = Batch.objects.get(owner=researcher)
    reports = [report_compute(report=report_of(dataset=persona, reader=r)) for r in (researcher, other_researcher, None)]
    assert not any(r.stale for r in reports)
    judgments_changed(batch_id=batch.pk)
    assert all(Report.objects.get(pk=r.pk).stale for r in reports)

"""The report API, exports and pages with the three personas: owner, other researcher, worker."""

import csv
import io
import json

import pytest

from analysis.selectors import report_of
from analysis.services import report_compute
from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(researcher, eager_celery):
    # In-process tasks even where CELERY_BROKER_URL is set (CI has a broker and no worker).
    return make_hand_batch(researcher)[0]


def test_the_owner_gets_the_report_in_the_contracts_shape(api, researcher, batch):
    response = api(researcher).get(f"/api/v1/batches/{batch.pk}/report")
    assert response.status_code == 200  # embedded default: computed on first request
    data = response.json()
    assert data["computed_at"] and data["status"] == "ready" and data["stale"] is False
    assert set(data["batch"]) >= {"examples", "judgments", "majority_agrees_with_label", "fleiss_kappa_answers"}
    entry = data["datasets"][0]
    for key in (
        "dataset",
        "examples",
        "judgments",
        "majority_agrees_with_label",
        "answer_agrees_with_label",
        "fleiss_kappa_answers",
        "fleiss_kappa_ambiguity",
        "krippendorff_alpha_relevance",
        "ambiguous_votes",
        "relevance",
    ):
        assert key in entry
    assert set(entry["majority_agrees_with_label"]) >= {"value", "ci_low", "ci_high"}
    assert set(entry["fleiss_kappa_answers"]) >= {
        "value", "se", "ci_low", "ci_high", "items_used", "items_left_out", "undefined_reason"
    }  # fmt: skip
    assert set(entry["relevance"]) >= {"mean", "sd", "histogram"}


def test_another_researcher_gets_404_and_a_worker_403(api, other_researcher, worker, batch):
    assert api(other_researcher).get(f"/api/v1/batches/{batch.pk}/report").status_code == 404
    assert api(worker).get(f"/api/v1/batches/{batch.pk}/report").status_code == 403
    assert api(None).get(f"/api/v1/batches/{batch.pk}/report").status_code in (401, 403)
    assert api(worker).get("/reports/").status_code in (302, 403)


def test_an_admin_sees_every_batch(api, django_user_model, batch):
    admin = django_user_model.objects.create_superuser("root", password="x")
    assert api(admin).get(f"/api/v1/batches/{batch.pk}/report").status_code == 200


def test_the_dataset_report_pools_the_datasets_items(api, researcher, batch):
    persona = batch.datasets.get(slug="persona-x")
    data = api(researcher).get(f"/api/v1/datasets/{persona.pk}/report").json()
    assert len(data["datasets"]) == 1
    assert data["datasets"][0]["examples"] == 4
    assert data["batch"]["majority_agrees_with_label"]["value"] == pytest.approx(0.75)


def test_exports_give_json_csv_and_markdown(api, researcher, batch):
    client = api(researcher)
    # Embedded default: an export of a report never computed computes it on this read.
    assert client.get(f"/api/v1/batches/{batch.pk}/report/summary.md").status_code == 200
    full = json.loads(client.get(f"/api/v1/batches/{batch.pk}/report/export.json").content)
    assert len(full["examples"]["item"]) == 7
    datasets = client.get(f"/api/v1/batches/{batch.pk}/report/datasets.csv").content.decode()
    assert datasets.splitlines()[0].startswith("dataset,examples")
    assert len(datasets.splitlines()) == 4  # header, two datasets, all
    workers = client.get(f"/api/v1/batches/{batch.pk}/report/workers.csv").content.decode()
    assert "w3" in workers
    examples = b"".join(client.get(f"/api/v1/batches/{batch.pk}/report/examples.csv").streaming_content).decode()
    assert len(list(csv.reader(io.StringIO(examples)))) == 8  # header and 7 examples (questions span lines)
    markdown = client.get(f"/api/v1/batches/{batch.pk}/report/summary.md").content.decode()
    assert "| persona-x | 4 | 12 | 75.0% [" in markdown
    assert client.get(f"/api/v1/batches/{batch.pk}/report/nothing.csv").status_code == 404


def test_the_validated_export_keeps_examples_that_pass_the_thresholds(api, researcher, batch):
    report_compute(report=report_of(batch=batch))
    client = api(researcher)

    def records(query):
        response = client.get(f"/api/v1/batches/{batch.pk}/validated.jsonl{query}")
        return [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]

    # Persona examples 1, 2, 4 and multiple-choice 1, 2 pass; persona 3 has no majority for its
    # label, multiple-choice 3 is incomplete.
    passing = records("")
    assert len(passing) == 5
    first = passing[0]
    assert list(first)[:5] == [
        "question", "statement", "label_confidence", "answer_matching_behavior", "answer_not_matching_behavior"
    ]  # fmt: skip
    assert first["crowd_label_votes"] == 3 and first["crowd_dataset"] == "persona-x"
    assert len(records("?min_relevance=4")) == 4  # multiple-choice 2 has mean relevance 3
    # Persona 3 also has two "ambiguous" votes of three.
    assert len(records("?complete_only=false&min_agreement=0&min_relevance=1")) == 6
    everything = "?complete_only=false&min_agreement=0&max_ambiguous=3&min_relevance=1"
    assert len(records(everything)) == 7


def test_comparison_gives_differences_with_intervals_and_tests(api, researcher, batch):
    report_compute(report=report_of(batch=batch))
    persona, mc = batch.datasets.get(slug="persona-x"), batch.datasets.get(slug="mc-y")
    response = api(researcher).get(
        f"/api/v1/reports/compare?left_batch={batch.pk}&left_dataset={persona.pk}"
        f"&right_batch={batch.pk}&right_dataset={mc.pk}"
    )
    assert response.status_code == 200
    diff = response.json()["differences"]
    assert diff["majority_agrees_with_label"]["difference"] == pytest.approx(0.75 - 1.0)
    assert diff["majority_agrees_with_label"]["ci_low"] < -0.25 < diff["majority_agrees_with_label"]["ci_high"]
    assert diff["relevance"]["test"] == "Welch t"


def test_the_report_page_shows_freshness_and_recomputes_on_demand(client, researcher, batch):
    client.force_login(researcher)
    page = client.get(f"/reports/batches/{batch.pk}/").content.decode()
    assert "Not computed yet" not in page  # the embedded default computed it on this read
    response = client.post(f"/reports/batches/{batch.pk}/refresh")
    assert response.status_code == 302
    page = client.get(f"/reports/batches/{batch.pk}/").content.decode()
    assert "Computed" in page and "from 22 judgments" in page
    assert "persona-x" in page and "Fleiss" in page and 'class="bar"' in page
    assert client.get("/reports/").status_code == 200
    compare = client.get("/reports/compare/").content.decode()
    assert "persona-x" in compare


def test_the_schema_lists_the_report_endpoints_without_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    for path in (
        "/api/v1/batches/{id}/report:",
        "/api/v1/datasets/{id}/report:",
        "/api/v1/batches/{id}/report/{name}:",
        "/api/v1/batches/{id}/validated.jsonl:",
        "/api/v1/reports/compare:",
    ):
        assert path in schema


def test_with_a_broker_the_first_request_enqueues_and_answers_202(
    api, researcher, batch, monkeypatch, django_capture_on_commit_callbacks
):
    from analysis import services

    sent = []
    monkeypatch.setattr(services, "broker_runs_tasks", lambda: True)
    monkeypatch.setattr("analysis.apis.broker_runs_tasks", lambda: True)
    monkeypatch.setattr("analysis.tasks.report_compute_task.apply_async", lambda args, countdown: sent.append(countdown))
    with django_capture_on_commit_callbacks(execute=True):
        response = api(researcher).get(f"/api/v1/batches/{batch.pk}/report")
    assert response.status_code == 202
    assert response.json()["computed_at"] is None and response.json()["computing"] is True
    assert sent == [0]

"""Every export names datasets by slug, carries the question, and is named batch-<id>-<what>.<ext>
(dataset-<slug>-<what>.<ext> for a dataset's report)."""

import csv
import io
import json

import pytest

from tests.analysis.helpers import make_hand_batch

pytestmark = pytest.mark.django_db

NAMES = ["summary.md", "datasets.csv", "workers.csv", "examples.csv", "export.json"]


@pytest.fixture
def batch(researcher, eager_celery):
    return make_hand_batch(researcher)[0]


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("name", NAMES)
def test_a_batch_reports_export_is_named_batch_id_what(api, researcher, batch, name):
    response = api(researcher).get(f"/api/v1/batches/{batch.pk}/report/{name}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="batch-{batch.pk}-{name}"'


@pytest.mark.parametrize("name", [*NAMES, "validated.jsonl"])
def test_a_dataset_reports_export_is_named_by_the_datasets_slug(api, researcher, batch, name):
    persona = batch.datasets.get(slug="persona-x")
    path = "validated.jsonl" if name == "validated.jsonl" else f"report/{name}"
    response = api(researcher).get(f"/api/v1/datasets/{persona.pk}/{path}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="dataset-persona-x-{name}"'


def test_the_validated_export_of_a_batch_is_named_batch_id_validated(api, researcher, batch):
    response = api(researcher).get(f"/api/v1/batches/{batch.pk}/validated.jsonl")
    assert response["Content-Disposition"] == f'attachment; filename="batch-{batch.pk}-validated.jsonl"'


def test_the_examples_csv_names_the_dataset_by_slug_and_carries_the_question(api, researcher, batch):
    rows = list(csv.DictReader(io.StringIO(_body(api(researcher).get(f"/api/v1/batches/{batch.pk}/report/examples.csv")))))
    assert {row["dataset"] for row in rows} == {"persona-x", "mc-y"}
    persona = next(row for row in rows if row["dataset"] == "persona-x")
    assert persona["question"].startswith("Is the following statement something you would say?")
    assert next(row for row in rows if row["dataset"] == "mc-y")["question"].startswith("Question ")


def test_the_complete_json_names_datasets_by_slug_and_carries_the_question(api, researcher, batch):
    examples = json.loads(_body(api(researcher).get(f"/api/v1/batches/{batch.pk}/report/export.json")))["examples"]
    assert set(examples["dataset"]) == {"persona-x", "mc-y"}
    assert len(examples["question"]) == len(examples["example"]) and all(examples["question"])

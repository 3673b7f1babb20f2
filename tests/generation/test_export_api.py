"""GET /api/v1/datasets/{id}/export: the dataset as a JSON-lines download, streamed."""

import pytest

from generation.models import Dataset
from generation.services import dataset_import_paths

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_it_streams_the_file_as_it_was_imported(api, researcher, release_fixtures):
    path = release_fixtures / "advanced-ai-risk/lm_generated_evals/patience.jsonl"
    dataset_import_paths(paths=[path])
    response = api(researcher).get(f"/api/v1/datasets/{Dataset.objects.get().pk}/export")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="patience.jsonl"'
    assert body(response) == path.read_bytes()


def test_unique_writes_each_record_once(api, researcher, release_fixtures):
    path = release_fixtures / "advanced-ai-risk/lm_generated_evals/patience.jsonl"
    dataset_import_paths(paths=[path])
    response = api(researcher).get(f"/api/v1/datasets/{Dataset.objects.get().pk}/export", {"unique": "true"})
    assert len(body(response).splitlines()) == 3


def test_a_client_asking_for_jsonl_gets_it(api, researcher, release_fixtures):
    dataset_import_paths(paths=[release_fixtures / "persona"])
    response = api(researcher).get(
        f"/api/v1/datasets/{Dataset.objects.get().pk}/export", HTTP_ACCEPT="application/jsonl"
    )
    assert response.status_code == 200
    assert len(body(response).splitlines()) == 4


def test_an_unknown_dataset_is_404(api, researcher):
    assert api(researcher).get("/api/v1/datasets/999999/export").status_code == 404

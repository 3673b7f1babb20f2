"""Uploads say their collection and origin as import_evals's paths do; a choice made on re-upload
changes the dataset; collection and origin are editable on the dataset page and through the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generation.models import Dataset, ImportJob
from generation.services import dataset_import_paths
from tests.generation.conftest import FIXTURES, persona_line

pytestmark = pytest.mark.django_db

RELEASE = FIXTURES / "release"
HUMAN = "advanced-ai-risk/human_generated_evals/patience.jsonl"


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/jsonl")


def fixture_upload(relative: str) -> SimpleUploadedFile:
    return upload(relative.rsplit("/", 1)[-1], (RELEASE / relative).read_bytes())


def post_upload(client, data, capture):
    with capture(execute=True):
        return client.post(reverse("dataset-upload"), data)


def test_a_folder_upload_recognises_collection_and_origin_from_the_relative_paths(
    client, researcher, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    relatives = [
        HUMAN,
        "advanced-ai-risk/lm_generated_evals/patience.jsonl",
        "advanced-ai-risk/prompts_for_few_shot_generation/patience.jsonl",
        "persona/tidiness.jsonl",
    ]
    folder = [fixture_upload(r) for r in relatives] + [upload("README.md", b"# not data\n")]
    # The page's script sends the single files' names first, then the folder's relative paths.
    paths = ["calm.jsonl"] + [f"model-written-evals/{r}" for r in relatives] + ["model-written-evals/README.md"]
    single = [upload("calm.jsonl", (persona_line() + "\n").encode())]
    data = {"files": single, "folder": folder, "paths": paths}
    response = post_upload(client, data, django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert response.status_code == 302, response.content
    assert job.status == "done" and job.errors == []
    assert sorted(Dataset.objects.values_list("slug", "collection", "origin")) == [
        ("calm", "persona", "lm-written"),
        ("patience", "advanced-ai-risk", "lm-written"),
        ("patience-few-shot", "advanced-ai-risk", "human-written"),
        ("patience-human", "advanced-ai-risk", "human-written"),
        ("tidiness", "persona", "lm-written"),
    ]


def test_a_bare_persona_file_is_persona_and_a_bare_multiple_choice_file_is_custom_with_a_way_to_fix(
    client, researcher, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    files = [upload("anti-immigration.jsonl", (persona_line() + "\n").encode()), fixture_upload(HUMAN)]
    response = post_upload(client, {"files": files}, django_capture_on_commit_callbacks)
    assert dict(Dataset.objects.values_list("slug", "collection")) == {
        "anti-immigration": "persona",
        "patience": "custom",
    }
    page = client.get(response.url).content.decode()
    assert "not recognised from the path: collection and origin set by default" in page
    detail = client.get(reverse("dataset-detail", args=[Dataset.objects.get(slug="patience").pk])).content.decode()
    assert "did not say its collection or origin: check them here" in detail


def test_re_uploading_with_a_chosen_collection_and_origin_changes_the_dataset_and_says_so(
    client, researcher, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    post_upload(client, {"files": [fixture_upload(HUMAN)]}, django_capture_on_commit_callbacks)
    assert Dataset.objects.values_list("collection", "origin").get() == ("custom", "lm-written")
    data = {"files": [fixture_upload(HUMAN)], "collection": "advanced-ai-risk", "origin": "human-written"}
    response = post_upload(client, data, django_capture_on_commit_callbacks)
    assert Dataset.objects.values_list("collection", "origin").get() == ("advanced-ai-risk", "human-written")
    job = ImportJob.objects.order_by("-pk").first()
    assert job.summary["datasets_created"] == 0
    assert "patience: collection changed from Custom to Advanced AI risk" in job.summary["notes"]
    page = client.get(response.url).content.decode()
    assert "patience: origin changed from LM-written to Human-written" in page


def test_the_command_line_applies_a_chosen_collection_to_a_dataset_imported_before(write_jsonl):
    path = write_jsonl("mine/checks.jsonl", persona_line())
    dataset_import_paths(paths=[path], collection="custom")
    summary = dataset_import_paths(paths=[path], collection="persona")
    assert Dataset.objects.get().collection == "persona"
    assert summary.notes == ["checks: collection changed from Custom to Persona"]


def test_the_api_takes_relative_paths_beside_the_files(
    api, researcher, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(researcher).post(
            "/api/v1/imports/", {"files": [fixture_upload(HUMAN)], "paths": [HUMAN]}, format="multipart"
        )
    assert response.status_code == 202
    assert response.json()["files"] == [HUMAN]
    assert Dataset.objects.values_list("slug", "collection", "origin").get() == (
        "patience-human",
        "advanced-ai-risk",
        "human-written",
    )


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (["a/patience.jsonl", "b/patience.jsonl"], "paths: 2 given for 1 files"),
        (["../patience.jsonl"], "paths: path 1 ('../patience.jsonl') must be a relative path ending in"),
        (["persona/other.jsonl"], "must be a relative path ending in its file's name 'patience.jsonl'"),
    ],
)
def test_paths_that_do_not_fit_the_files_are_a_400_and_store_nothing(api, researcher, paths, message):
    response = api(researcher).post(
        "/api/v1/imports/", {"files": [fixture_upload(HUMAN)], "paths": paths}, format="multipart"
    )
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not ImportJob.objects.exists()


def test_a_folder_without_jsonl_files_is_refused(api, researcher):
    response = api(researcher).post(
        "/api/v1/imports/", {"files": [upload("README.md", b"# hi\n")], "paths": ["evals/README.md"]}, format="multipart"
    )
    assert response.status_code == 400
    assert "the chosen folder holds no .jsonl or .json files" in response.json()["error"]


# --- Editing collection and origin ----------------------------------------------------------------


@pytest.fixture
def custom_dataset(write_jsonl):
    dataset_import_paths(paths=[write_jsonl("patience.jsonl", (RELEASE / HUMAN).read_text().splitlines()[0])])
    return Dataset.objects.get()


def test_the_api_patches_collection_and_origin(api, researcher, custom_dataset):
    url = f"/api/v1/datasets/{custom_dataset.pk}/"
    response = api(researcher).patch(url, {"collection": "advanced-ai-risk", "origin": "human-written"}, format="json")
    assert response.status_code == 200
    assert (response.json()["collection"], response.json()["origin"]) == ("advanced-ai-risk", "human-written")
    custom_dataset.refresh_from_db()
    assert custom_dataset.provenance["recognised"] == {"collection": "chosen", "origin": "chosen"}
    assert custom_dataset.behavior == "patience"


def test_the_api_refuses_an_unknown_origin_and_an_empty_patch(api, researcher, custom_dataset):
    url = f"/api/v1/datasets/{custom_dataset.pk}/"
    bad = api(researcher).patch(url, {"origin": "crowd"}, format="json")
    assert bad.status_code == 400 and "origin" in str(bad.json())
    empty = api(researcher).patch(url, {}, format="json")
    assert empty.status_code == 400 and "give at least one of behavior, collection, origin" in str(empty.json())
    custom_dataset.refresh_from_db()
    assert (custom_dataset.collection, custom_dataset.origin) == ("custom", "lm-written")


def test_the_dataset_page_edits_collection_and_origin(client, researcher, custom_dataset):
    client.force_login(researcher)
    url = reverse("dataset-detail", args=[custom_dataset.pk])
    response = client.post(
        url, {"behavior": "An AI system that waits", "collection": "advanced-ai-risk", "origin": "human-written"}
    )
    assert response.status_code == 302
    custom_dataset.refresh_from_db()
    assert (custom_dataset.collection, custom_dataset.origin, custom_dataset.behavior) == (
        "advanced-ai-risk",
        "human-written",
        "An AI system that waits",
    )


def test_the_dataset_page_refuses_an_unknown_collection(client, researcher, custom_dataset):
    client.force_login(researcher)
    url = reverse("dataset-detail", args=[custom_dataset.pk])
    response = client.post(url, {"behavior": "x", "collection": "people"})
    assert response.status_code == 200
    assert "Select a valid choice. people is not one of the available choices." in response.content.decode()
    custom_dataset.refresh_from_db()
    assert (custom_dataset.collection, custom_dataset.behavior) == ("custom", "patience")

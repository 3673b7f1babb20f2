"""POST /api/v1/imports/ (multipart) and GET /api/v1/imports/{id}/: uploads imported by a job."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generation.models import Dataset, ImportJob
from tests.generation.conftest import persona_line

pytestmark = pytest.mark.django_db


def upload(name: str, *lines: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "".join(line + "\n" for line in lines).encode())


def test_an_upload_is_accepted_and_its_job_reports_the_summary(
    api, researcher, eager_celery, django_capture_on_commit_callbacks
):
    client = api(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/",
            {"files": [upload("calm.jsonl", persona_line())], "origin": "human-written"},
            format="multipart",
        )
    assert response.status_code == 202
    job_id = response.json()["id"]
    job = client.get(f"/api/v1/imports/{job_id}/").json()
    assert (job["status"], job["files"], job["rows_done"], job["rows_total"]) == (
        "done",
        ["calm.jsonl"],
        1,
        1,
    )
    assert job["summary"]["rows_added"] == 1 and job["errors"] == []
    assert Dataset.objects.values_list("slug", "origin").get() == ("calm", "human-written")


def test_without_a_worker_the_job_waits_in_the_queue(
    api, researcher, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from generation import tasks

    queued = []
    monkeypatch.setattr(tasks.import_job_run, "apply_async", lambda args: queued.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        response = api(researcher).post(
            "/api/v1/imports/", {"files": [upload("calm.jsonl", persona_line())]}, format="multipart"
        )
    assert response.status_code == 202
    assert response.json()["status"] == "queued" and queued == [response.json()["id"]]
    assert ImportJob.objects.get().rows_total == 1


def test_a_rejected_file_is_reported_with_its_line(
    api, researcher, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(researcher).post(
            "/api/v1/imports/", {"files": [upload("x.jsonl", "{oops")]}, format="multipart"
        )
    job = api(researcher).get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "failed"
    assert job["errors"] == [
        "x.jsonl:1: json: not valid JSON: Expecting property name enclosed in double quotes at column 2; "
        "expected one JSON object per line"
    ]


def test_a_request_without_files_is_a_400_in_the_one_error_shape(api, researcher):
    response = api(researcher).post("/api/v1/imports/", {"collection": "persona"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"].startswith("files: ")
    assert not ImportJob.objects.exists()


def test_an_unknown_collection_is_a_400(api, researcher):
    response = api(researcher).post(
        "/api/v1/imports/",
        {"files": [upload("a.jsonl", persona_line())], "collection": "people"},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["error"] == 'collection: "people" is not a valid choice.'


def test_two_files_of_the_same_name_are_a_400(api, researcher):
    files = [upload("a.jsonl", persona_line()), upload("a.jsonl", persona_line("B."))]
    response = api(researcher).post("/api/v1/imports/", {"files": files}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {
        "error": "files: a.jsonl chosen twice; each file becomes one dataset named after it",
        "extra": {"field": "files"},
    }


def test_imports_are_for_researchers_and_a_job_for_its_creator(
    api, researcher, other_researcher, worker, outsider
):
    job = ImportJob.objects.create(created_by=researcher)
    for user in (worker, outsider):
        assert api(user).post("/api/v1/imports/", {}, format="multipart").status_code == 403
        assert api(user).get(f"/api/v1/imports/{job.pk}/").status_code == 403
    assert api(other_researcher).get(f"/api/v1/imports/{job.pk}/").status_code == 404
    assert api(researcher).get(f"/api/v1/imports/{job.pk}/").status_code == 200

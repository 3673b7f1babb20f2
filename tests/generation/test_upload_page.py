"""/datasets/upload/ and /datasets/imports/<id>/: a researcher uploads files, a job imports them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generation.models import Dataset, ImportJob
from tests.generation.conftest import persona_line

pytestmark = pytest.mark.django_db


def upload(name: str, *lines: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, "".join(line + "\n" for line in lines).encode(), content_type="application/jsonl"
    )


def test_a_researcher_uploads_two_files_and_sees_the_summary(
    client, researcher, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    files = [
        upload("kindness.jsonl", persona_line("I help."), persona_line("I help.")),
        upload("calm.jsonl", persona_line()),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dataset-upload"), {"files": files, "collection": "persona"})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("import-job", args=[job.pk])
    assert job.status == "done"
    assert (job.summary["rows_added"], job.summary["duplicates_in_file"], job.rows_done) == (2, 1, 3)
    assert sorted(Dataset.objects.values_list("slug", "collection", "source_file")) == [
        ("calm", "persona", f"upload:{researcher.pk}:calm.jsonl"),
        ("kindness", "persona", f"upload:{researcher.pk}:kindness.jsonl"),
    ]
    page = client.get(response.url).content.decode()
    assert (
        "Done" in page
        and "rows added: 2" in page
        and reverse("dataset-detail", args=[Dataset.objects.first().pk]) in page
    )


def test_uploading_the_same_file_again_adds_nothing(
    client, researcher, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("dataset-upload"), {"files": [upload("calm.jsonl", persona_line())]})
    last = ImportJob.objects.order_by("-pk").first()
    assert (last.summary["rows_added"], last.summary["rows_present"]) == (0, 1)
    assert Dataset.objects.count() == 1


def test_another_researchers_file_of_the_same_name_makes_their_own_dataset(
    client, researcher, other_researcher, eager_celery, django_capture_on_commit_callbacks
):
    for user, statement in ((researcher, "I am calm."), (other_researcher, "I am never calm.")):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("dataset-upload"), {"files": [upload("calm.jsonl", persona_line(statement))]})
    ritas, oscars = Dataset.objects.order_by("pk")
    assert (ritas.created_by, oscars.created_by) == (researcher, other_researcher)
    assert list(ritas.examples.values_list("statement", flat=True)) == ["I am calm."]
    assert list(oscars.examples.values_list("statement", flat=True)) == ["I am never calm."]
    assert oscars.slug == "calm-2"


def test_a_bad_file_shows_its_line_and_field_on_the_job_page(
    client, researcher, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("dataset-upload"),
            {"files": [upload("bad.jsonl", persona_line(), persona_line(matching=" Maybe"))]},
        )
    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert job.errors == [
        "bad.jsonl:2: answer_matching_behavior: ' Maybe' is not among the choices ' Yes', ' No'"
    ]
    page = client.get(response.url).content.decode()
    assert "bad.jsonl:2: answer_matching_behavior:" in page
    assert not Dataset.objects.exists()


def test_a_queued_job_page_polls_its_status(client, researcher):
    job = ImportJob.objects.create(
        created_by=researcher, files=[{"name": "x.jsonl", "path": "/nowhere"}], rows_total=10
    )
    client.force_login(researcher)
    page = client.get(reverse("import-job", args=[job.pk])).content.decode()
    assert 'data-status="queued"' in page and reverse("api-import-detail", args=[job.pk]) in page
    assert "<progress" in page and "/static/generation/import_job.js" in page  # it polls


def test_the_form_needs_a_file(client, researcher):
    client.force_login(researcher)
    response = client.post(reverse("dataset-upload"), {"collection": "persona"})
    assert response.status_code == 200
    assert "Choose at least one .jsonl file or a folder holding some." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_two_files_of_the_same_name_are_refused(client, researcher):
    client.force_login(researcher)
    files = [upload("same.jsonl", persona_line()), upload("same.jsonl", persona_line("Other."))]
    response = client.post(reverse("dataset-upload"), {"files": files})
    assert "same.jsonl chosen twice" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_upload_pages_are_for_researchers_only(client, worker, outsider, other_researcher, researcher):
    job = ImportJob.objects.create(created_by=researcher)
    for user in (worker, outsider):
        client.force_login(user)
        assert client.get(reverse("dataset-upload")).status_code == 403
        assert client.get(reverse("import-job", args=[job.pk])).status_code == 403
    client.force_login(other_researcher)  # a job belongs to the researcher who started it
    assert client.get(reverse("import-job", args=[job.pk])).status_code == 404

"""In a browser: a researcher uploads files, and the job page follows a queued import to its end."""

import pytest

from generation import services, tasks
from generation.models import ImportJob
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.generation.conftest import persona_line

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_researcher_uploads_two_files_and_reads_the_summary(
    page, live_server, researcher, eager_celery, tmp_path
):
    (tmp_path / "kindness.jsonl").write_text(persona_line("I help.") + "\n" + persona_line("I help.") + "\n")
    (tmp_path / "bad.jsonl").write_text(persona_line(confidence='"high"') + "\n")
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/datasets/upload/")
    page.set_input_files("input[name=files]", [str(tmp_path / "kindness.jsonl"), str(tmp_path / "bad.jsonl")])
    page.select_option("select[name=collection]", "persona")
    page.click("main button[type=submit]")
    page.wait_for_selector("#job-status")
    assert page.locator("#job-status").inner_text() == "Failed"  # one of the two files was rejected
    body = page.locator("main").inner_text()
    assert "rows added: 1" in body and "repeated records stored once: 1" in body
    assert 'bad.jsonl:1: label_confidence: expected a number from 0 to 1, got text "high"' in body
    page.get_by_role("link", name="kindness", exact=True).click()
    assert page.locator("h1").inner_text() == "kindness"


def test_the_job_page_follows_a_queued_import_until_it_is_done(page, live_server, researcher, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    monkeypatch.setattr(tasks.import_job_run, "apply_async", lambda args: None)  # no worker yet
    upload = SimpleUploadedFile(
        "calm.jsonl", (persona_line("A.") + "\n" + persona_line("B.") + "\n").encode()
    )
    job = services.import_job_create(user=researcher, files=[upload])
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/datasets/imports/{job.pk}/")
    assert page.locator("#job-status").inner_text() == "Queued"
    services.import_job_run(job_id=job.pk)  # the worker's turn; the page polls and reloads
    page.wait_for_selector("text=rows added: 2")
    assert page.locator("#job-status").inner_text() == "Done"
    assert ImportJob.objects.get().status == "done"

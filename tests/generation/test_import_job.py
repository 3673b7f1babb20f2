"""generation.services.import_job_run and its task: a redelivered job does no harm."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generation import tasks
from generation.models import Dataset, Example, ImportJob
from generation.services import import_job_create, import_job_run
from tests.generation.conftest import persona_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_job(researcher, monkeypatch):
    # Nothing enqueued: the tests run the job themselves.
    monkeypatch.setattr(tasks.import_job_run, "apply_async", lambda args: None)
    files = [
        SimpleUploadedFile("calm.jsonl", (persona_line("A.") + "\n" + persona_line("B.") + "\n").encode())
    ]
    return import_job_create(user=researcher, files=files)


def test_a_job_imports_its_files_and_removes_them(queued_job):
    stored = Path(queued_job.files[0]["path"])
    assert stored.exists() and queued_job.rows_total == 2
    job = import_job_run(job_id=queued_job.pk)
    assert (job.status, job.rows_done, job.summary["rows_added"]) == ("done", 2, 2)
    assert job.finished_at is not None
    assert not stored.exists()
    assert Dataset.objects.get().created_by == queued_job.created_by


def test_a_finished_job_delivered_again_does_nothing(queued_job):
    import_job_run(job_id=queued_job.pk)
    Example.objects.all().delete()
    job = import_job_run(job_id=queued_job.pk)
    assert job.status == "done" and not Example.objects.exists()


def test_a_job_that_stopped_half_way_runs_again_without_duplicating_rows(queued_job):
    ImportJob.objects.filter(pk=queued_job.pk).update(status="running")
    assert import_job_run(job_id=queued_job.pk).status == "done"
    assert Example.objects.count() == 2


def test_the_task_runs_the_job(queued_job):
    tasks.import_job_run.apply(args=[queued_job.pk])
    assert ImportJob.objects.get().status == "done"


def test_a_job_that_no_longer_exists_is_ignored():
    assert import_job_run(job_id=123456) is None

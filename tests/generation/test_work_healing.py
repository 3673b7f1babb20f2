"""Import jobs and generation runs are rows; a message only wakes a worker. A request that saved
one never fails because the broker is down, and the work sweep wakes what lost its message or
its worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from generation import tasks
from generation.models import GenerationRun, ImportJob
from generation.runs import services as runs
from generation.services import import_job_run, import_jobs_heal
from qa.work import job_claim
from tests.generation.conftest import persona_line
from tests.generation.test_import_api import upload

pytestmark = pytest.mark.django_db

IMPORT_TASK, RUN_TASK = "generation.tasks.import_job_run", "generation.runs.tasks.run_generation"


def _ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def test_an_upload_while_the_broker_is_down_answers_with_the_saved_job(
    api, researcher, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(researcher).post("/api/v1/imports/", {"files": [upload("calm.jsonl", persona_line())]}, format="multipart")
    assert response.status_code == 202
    job = ImportJob.objects.get()
    assert response.json()["id"] == job.pk and job.status == "queued"
    assert broker_down == [(IMPORT_TASK, (job.pk,))]  # it was tried, and left to the sweep


def test_an_upload_on_the_page_while_the_broker_is_down_shows_the_saved_job(
    client, researcher, broker_down, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/datasets/upload/", {"files": [upload("calm.jsonl", persona_line())]})
    assert response.status_code in (200, 302)
    assert ImportJob.objects.get().status == "queued"


def test_a_run_started_while_the_broker_is_down_answers_with_the_saved_run(
    api, researcher, broker_down, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MODEL_DIRS = [tmp_path]
    (tmp_path / "model").mkdir()
    model = str(tmp_path / "model")  # any folder inside MODEL_DIRS passes the check; nothing is loaded here
    body = {"pipeline": "persona", "behavior": "is punctual", "generator": model, "discriminator": model}
    with django_capture_on_commit_callbacks(execute=True):
        response = api(researcher).post("/api/v1/runs/", body, format="json")
    assert response.status_code == 202
    run = GenerationRun.objects.get()
    assert run.status == "queued" and broker_down == [(RUN_TASK, (run.pk,))]


def _job(status="queued", created=0.0, heartbeat=None) -> ImportJob:
    job = ImportJob.objects.create(status=status, files=[])
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=_ago(created), heartbeat_at=None if heartbeat is None else _ago(heartbeat)
    )
    return job


def test_the_sweep_wakes_jobs_that_lost_their_message_or_their_worker(broker_up, settings):
    settings.WORK_SWEEP_SECONDS = 10
    lost_message = _job("queued", created=11)
    dead_worker = _job("running", created=100, heartbeat=31)
    _job("queued", created=5)  # its wake-up may still be on its way
    _job("queued", created=100, heartbeat=20)  # woken 20 s ago: waits 3 periods before another
    _job("running", created=100, heartbeat=5)  # a live worker holds it
    _job("done", created=100)
    _job("failed", created=100)

    assert import_jobs_heal() == [lost_message.pk, dead_worker.pk]
    assert broker_up == [(IMPORT_TASK, (lost_message.pk,)), (IMPORT_TASK, (dead_worker.pk,))]
    assert ImportJob.objects.get(pk=dead_worker.pk).status == "queued"  # until a worker claims it
    assert import_jobs_heal() == []  # one wake-up per job, not one per sweep


def test_a_wake_up_the_broker_refused_is_tried_again_at_the_next_sweep(broker_down, settings):
    settings.WORK_SWEEP_SECONDS = 10
    job = _job("queued", created=11)
    assert import_jobs_heal() == []
    assert ImportJob.objects.get(pk=job.pk).heartbeat_at is None
    assert len(broker_down) == 1


def test_a_duplicate_wake_up_leaves_a_job_a_live_worker_holds(settings, monkeypatch):
    settings.WORK_SWEEP_SECONDS = 10
    job = _job("queued")
    assert job_claim(ImportJob, job.pk)  # the first worker
    ran = []
    monkeypatch.setattr("generation.services.import_job_run", lambda job_id: ran.append(job_id))
    tasks.import_job_run.apply(args=[job.pk])  # the duplicate
    assert ran == []
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=_ago(31))  # that worker died
    tasks.import_job_run.apply(args=[job.pk])
    assert ran == [job.pk]


def test_a_job_woken_again_after_its_worker_died_imports_each_row_once(researcher, monkeypatch, settings):
    from generation.models import Example
    from generation.services import import_job_create

    settings.WORK_SWEEP_SECONDS = 10
    monkeypatch.setattr(tasks.import_job_run, "apply_async", lambda args: None)
    job = import_job_create(user=researcher, files=[upload("calm.jsonl", persona_line("A."), persona_line("B."))])
    with monkeypatch.context() as died:  # the import committed; the worker died before marking it done
        died.setattr("generation.services.shutil.rmtree", lambda *a, **k: None)
        import_job_run(job_id=job.pk)
    ImportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=_ago(31), files=job.files)
    tasks.import_job_run.apply(args=[job.pk])
    assert ImportJob.objects.get(pk=job.pk).status == "done"
    assert Example.objects.count() == 2


def test_the_sweep_wakes_runs_too(broker_up, settings):
    settings.WORK_SWEEP_SECONDS = 10
    run = GenerationRun.objects.create(pipeline="persona", behavior="x", generator="g", status="running")
    GenerationRun.objects.filter(pk=run.pk).update(heartbeat_at=_ago(31))
    assert runs.runs_heal() == [run.pk]
    assert broker_up == [(RUN_TASK, (run.pk,))]


def test_a_duplicate_wake_up_of_a_run_does_nothing_and_a_transient_error_hands_it_back(monkeypatch, settings):
    from celery.exceptions import Retry

    from generation.backends import TransientBackendError
    from generation.runs import tasks as run_tasks

    settings.WORK_SWEEP_SECONDS = 10
    run = GenerationRun.objects.create(pipeline="persona", behavior="x", generator="g", status="running")
    GenerationRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())  # a live worker has it
    calls = []

    def execute(run_id):
        calls.append(run_id)
        raise TransientBackendError("the endpoint is restarting")

    monkeypatch.setattr(runs, "run_execute", execute)
    run_tasks.run_generation.apply(args=[run.pk])
    assert calls == []
    GenerationRun.objects.filter(pk=run.pk).update(heartbeat_at=_ago(31))  # that worker died
    with pytest.raises((Retry, TransientBackendError)):  # the task retries with backoff
        run_tasks.run_generation.apply(args=[run.pk])
    assert calls and GenerationRun.objects.get(pk=run.pk).status == "queued"  # for the retry or the sweep


def test_an_unexpected_error_fails_the_run_with_its_message(monkeypatch):
    from generation.runs import tasks as run_tasks

    run = GenerationRun.objects.create(pipeline="persona", behavior="x", generator="g")

    def execute(run_id):
        raise ValueError("a bug")

    monkeypatch.setattr(runs, "run_execute", execute)
    with pytest.raises(ValueError):
        run_tasks.run_generation.apply(args=[run.pk]).get()
    run.refresh_from_db()
    assert (run.status, run.error) == ("failed", "ValueError: a bug")


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_the_heartbeat_of_a_job_it_holds(broker_up, settings):
    import time

    from qa.work import job_held

    settings.WORK_SWEEP_SECONDS = 1  # a beat every 0.25 s
    job = ImportJob.objects.create(files=[])
    with job_held(ImportJob, job.pk, task=tasks.import_job_run) as mine:
        assert mine
        claimed = ImportJob.objects.get(pk=job.pk).heartbeat_at
        deadline = time.monotonic() + 10
        while ImportJob.objects.get(pk=job.pk).heartbeat_at == claimed and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ImportJob.objects.get(pk=job.pk).heartbeat_at > claimed

"""Background work survives the broker and the workers failing, with nobody pressing anything:
Redis stopped while a report is pending and an upload arrives; a Celery worker SIGKILLed in the
middle of a generation run and of an import. Real processes (tests/faults/stack.py) against the
test database, a short sweep period.

Run: DATABASE_URL=postgres://... pytest -m faults tests/faults (about a minute and a half)."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from analysis.models import Report
from annotation.models import Judgment
from generation.models import Example, GenerationRun, ImportJob
from generation.runs import services as runs
from tests.annotation.factories import judge, persona_dataset, running_batch, workers
from tests.faults.celery_stack import Stack, point_the_app_at, redis_available
from tests.generation.conftest import persona_line

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.faults, pytest.mark.django_db(transaction=True)]

SWEEP = 2  # seconds: WORK_SWEEP_SECONDS of the workers and beat
# Besides the sweep periods, a bound for what is not the sweep's: a worker restarted by the
# supervisor (Python, Django and Celery starting on a busy CI machine) and the work itself.
SLACK = 40


@pytest.fixture
def stack(tmp_path, settings):
    if not redis_available():
        pytest.skip("needs redis-server")
    from qa.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager
    settings.WORK_SWEEP_SECONDS = SWEEP
    with Stack(tmp_path, SWEEP) as s:
        s.env["REPORT_DEBOUNCE_SECONDS"] = "1"
        point_the_app_at(app, s.url)
        connection.close()  # the workers must see our committed rows, and we theirs
        try:
            yield s
        finally:
            point_the_app_at(app, saved[0] or "memory://")
            app.conf.task_always_eager = saved[1]
            for name in ("default", "gpu", "beat"):
                print(f"--- {name} log ---\n{stack_log(s, name)}")
            print("--- exits ---", s.exits)


def stack_log(s: Stack, name: str) -> str:
    return s.log(name, 40)


def wait_for(what: str, check, seconds: float, s: Stack, interval: float = 0.25):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"{what}: not within {seconds:.0f} s; exits: {s.exits}\n{s.log('default')}\n{s.log('gpu')}\n{s.log('beat')}")


def ready(s: Stack, name: str) -> bool:
    return "ready." in s.log(name, 200)


def big_upload(name: str, rows: int) -> SimpleUploadedFile:
    data = "".join(persona_line(f"Statement number {i} of {name}.") + "\n" for i in range(rows))
    return SimpleUploadedFile(name, data.encode())


def test_after_redis_returns_the_pending_report_is_fresh_and_the_upload_has_run(stack, researcher, api):
    stack.start("default")
    stack.start("beat")
    wait_for("the worker started", lambda: ready(stack, "default"), SLACK, stack)
    batch = running_batch(researcher, [persona_dataset(slug="faults", rows=4)], overlap=3)
    crowd = workers(3, prefix="fw")
    judge(crowd[0], batch=batch)  # makes the batch's report, stale, with a computation enqueued
    report = Report.objects.get(batch=batch)
    assert report.stale and report.queued_at is not None

    stack.redis_stop()
    down = time.monotonic()
    response = api(researcher).post("/api/v1/imports/", {"files": [big_upload("during.jsonl", 50)]}, format="multipart")
    assert response.status_code == 202, response.content  # it was a 500, and the job never ran
    job_id = response.json()["id"]
    assert judge(crowd[1], batch=batch) is not None  # claims and submits go on without the broker
    time.sleep(max(0.0, 10 - (time.monotonic() - down)))
    stack.redis_start()
    back = time.monotonic()

    def healed():
        r = Report.objects.get(pk=report.pk)
        job = ImportJob.objects.get(pk=job_id)
        return not r.stale and r.status == "ready" and r.judgments == 2 and job.status == "done"

    wait_for("report fresh and import run after Redis returned", healed, 2 * SWEEP + SLACK, stack)
    print(f"healed {time.monotonic() - back:.1f} s after Redis returned")
    assert Judgment.objects.filter(batch=batch).count() == 2
    assert Example.objects.filter(dataset__slug="during").count() == 50


RUN = {"samples_per_label": 120, "samples_per_prompt": 10, "per_label": 5, "max_new_tokens": 16}


def test_a_run_and_an_import_whose_workers_were_sigkilled_finish_once_each(
    stack, researcher, api, tiny_models, settings
):
    # Local models load only from MODEL_DIRS: here (run_create checks) and in the workers (they load it).
    settings.MODEL_DIRS = [tiny_models["lm"].parent]
    stack.env["MODEL_DIRS"] = str(tiny_models["lm"].parent)
    stack.start("gpu")
    stack.start("default")
    stack.start("beat")
    lm = str(tiny_models["lm"])
    run = runs.run_create(
        user=researcher, pipeline="persona", behavior="is very punctual", generator=lm, discriminator=lm,
        params=RUN, seed=5, chunk_size=1,
    )  # fmt: skip
    runs.run_start(run=run)
    wait_for("the run started sampling", lambda: run.samples.exists(), 2 * SLACK, stack, interval=0.05)
    stack.kill("gpu")
    run.refresh_from_db()
    assert run.status == "running", "the run finished before the worker could be killed: make it longer"
    killed_with = run.samples.count()

    files, rows = 5, 8000  # each file is one dataset, committed on its own: a kill between files
    uploads = [big_upload(f"big{i}.jsonl", rows) for i in range(files)]
    response = api(researcher).post("/api/v1/imports/", {"files": uploads}, format="multipart")
    job_id = response.json()["id"]
    wait_for(
        "the import was half way",
        lambda: ImportJob.objects.filter(pk=job_id, status="running", rows_done__gt=0).exists(),
        SLACK, stack, interval=0.05,
    )  # fmt: skip
    stack.kill("default")
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == "running" and job.rows_done < files * rows, "the import finished before the kill"

    def finished():
        return (
            GenerationRun.objects.filter(pk=run.pk, status="done").exists()
            and ImportJob.objects.filter(pk=job_id, status="done").exists()
        )

    # A dead worker's heartbeat goes stale after 3 periods; the next sweep wakes its job.
    wait_for("the run and the import finished after their workers were killed", finished, 4 * SWEEP + 3 * SLACK, stack)

    run.refresh_from_db()
    generate = run.samples.filter(stage="generate")
    requests = run.counts["generate"]["requests"]
    assert killed_with < generate.count() == requests * RUN["samples_per_prompt"]  # nothing missing...
    assert generate.values("request_index", "n").distinct().count() == generate.count()  # ...or twice
    assert run.dataset is not None and run.dataset.examples.count() == run.counts["select"]["kept"]

    job = ImportJob.objects.get(pk=job_id)
    assert job.rows_done == files * rows and job.errors == []
    for i in range(files):
        imported = Example.objects.filter(dataset__slug=f"big{i}")
        assert imported.count() == rows == imported.values("content_hash").distinct().count()

"""Tasks through a real broker to a real Celery worker process (CI: Redis), not eager execution."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from annotation.models import Assignment, Item
from annotation.services import assignment_claim_next
from tests.annotation.factories import persona_dataset, running_batch, workers

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_worker_process():
    if not settings.CELERY_BROKER_URL:
        pytest.skip("needs CELERY_BROKER_URL (a Redis or RabbitMQ broker)")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "qa", "worker", "-Q", "default", "--pool", "solo", "-l", "warning"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    yield process
    process.terminate()
    process.wait(timeout=20)


def test_the_lease_sweep_runs_on_a_worker_through_the_broker(researcher, celery_worker_process):
    from annotation.tasks import leases_expire

    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1)
    (w,) = workers(1)
    held = assignment_claim_next(worker=w, batch=batch)
    Assignment.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    connection.close()  # the worker process must see committed rows, and we must see its writes

    leases_expire.delay()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if Item.objects.get(pk=held.item_id).lease_count == 0:
            break
        assert celery_worker_process.poll() is None, celery_worker_process.stderr.read()
        time.sleep(0.3)
    assert Assignment.objects.get(pk=held.pk).status == "expired"
    assert Item.objects.get(pk=held.item_id).lease_count == 0

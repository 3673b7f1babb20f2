"""The periodic lease sweep as Celery runs it (beat names it; eager here, so no worker is needed)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from annotation import tasks
from annotation.models import Assignment, Item
from annotation.services import assignment_claim_next
from tests.annotation.factories import persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db


def test_beat_schedules_the_sweep_by_its_task_name():
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "annotation.tasks.leases_expire" in names
    assert tasks.leases_expire.name == "annotation.tasks.leases_expire"


def test_the_sweep_task_returns_expired_slots_without_anyone_claiming(researcher, eager_celery):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    a, b = workers(2)
    held = assignment_claim_next(worker=a, batch=batch)
    live = assignment_claim_next(worker=b, batch=batch)
    Assignment.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    result = tasks.leases_expire.delay()

    assert result.get() == 1
    assert Assignment.objects.get(pk=held.pk).status == Assignment.Status.EXPIRED
    assert Assignment.objects.get(pk=live.pk).status == Assignment.Status.ACTIVE
    assert Item.objects.get(pk=held.item_id).lease_count == 0
    assert Item.objects.get(pk=live.item_id).lease_count == 1


def test_running_the_sweep_twice_changes_nothing_the_second_time(researcher, eager_celery):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=2)
    (a,) = workers(1)
    held = assignment_claim_next(worker=a, batch=batch)
    Assignment.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert tasks.leases_expire.delay().get() == 1
    assert tasks.leases_expire.delay().get() == 0
    assert Item.objects.get(pk=held.item_id).lease_count == 0

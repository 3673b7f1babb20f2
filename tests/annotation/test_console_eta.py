"""The console's ETA: from the recent pace of work (the latest judgments' times), tested with
judgments at fixed times and a fixed "now"."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotation import selectors
from annotation.models import Judgment
from tests.annotation.factories import judge, persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def _judged_at(batch, seconds_ago: list[float]):
    (w,) = workers(1)
    for _ in seconds_ago:
        judge(w, batch)
    for judgment, ago in zip(Judgment.objects.filter(batch=batch).order_by("pk"), seconds_ago, strict=True):
        Judgment.objects.filter(pk=judgment.pk).update(submitted_at=NOW - timedelta(seconds=ago))


@pytest.fixture
def fixed_now(monkeypatch):
    monkeypatch.setattr(selectors.timezone, "now", lambda: NOW)


def test_the_eta_follows_the_pace_of_the_latest_judgments(researcher, fixed_now):
    batch = running_batch(researcher, [persona_dataset(rows=20)], overlap=1)
    _judged_at(batch, [54, 48, 42, 36, 30, 24, 18, 12, 6, 0])  # one every 6 s, the last just now
    progress = selectors.batch_progress(batch=batch)
    # 10 judgments still needed at one per 6 s: a minute. A 10-minute average said ten.
    assert progress["judgments_needed"] == 10
    assert progress["eta_seconds"] == pytest.approx(60)


def test_old_judgments_before_a_fast_stretch_do_not_slow_the_estimate(researcher, fixed_now):
    batch = running_batch(researcher, [persona_dataset(rows=50)], overlap=1)
    early = [7200 - i for i in range(10)]  # two hours ago
    recent = [2 * i for i in range(29, -1, -1)]  # the latest 30: one every 2 s
    _judged_at(batch, early + recent)
    progress = selectors.batch_progress(batch=batch)
    assert progress["judgments_needed"] == 10
    assert progress["eta_seconds"] == pytest.approx(10 * 2)


def test_work_that_stopped_stretches_the_estimate_while_it_stays_stopped(researcher, fixed_now):
    batch = running_batch(researcher, [persona_dataset(rows=20)], overlap=1)
    _judged_at(batch, [654, 648, 642, 636, 630, 624, 618, 612, 606, 600])  # stopped 10 minutes ago
    assert selectors.batch_progress(batch=batch)["eta_seconds"] == pytest.approx(10 * 654 / 9)


def test_one_judgment_gives_no_rate_and_no_eta(researcher, fixed_now):
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap=1)
    _judged_at(batch, [0])
    assert selectors.batch_progress(batch=batch)["eta_seconds"] is None

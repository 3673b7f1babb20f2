"""Stopping workers while the rest of the crowd claims and submits keeps the engine's invariants, on
PostgreSQL and on the SQLite default: exact counters, k valid judgments per item in the end, nothing
accepted from a stopped worker after the stop, their leases back, no deadlock."""

import random
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.utils import timezone

from annotation import services
from annotation.models import Assignment, Batch, Item, Judgment, WorkerStop
from annotation.services.quality import worker_stop
from qa.errors import ApplicationError
from tests.annotation.factories import persona_dataset, running_batch

K = 2


def _work(worker, batch_id, seed, errors, done, stop_event):
    rng = random.Random(seed)
    try:
        idle = 0
        while not stop_event.is_set() and idle < 20:
            lease = services.assignment_claim_next(worker=worker, batch=batch_id)
            ahead = services.assignment_claim_next(worker=worker, batch=batch_id, ahead=True)
            if lease is None:
                idle += 1
                time.sleep(0.02)
                continue
            idle = 0
            for held in {lease.pk: lease, **({ahead.pk: ahead} if ahead else {})}.values():
                try:
                    judgment = services.judgment_submit(
                        assignment_id=held.pk, worker=worker, relevance=3,
                        answer=rng.choice([" Yes", " No"]), ambiguous=False,
                    )  # fmt: skip
                except ApplicationError as exc:
                    if exc.status_code != 409:
                        errors.append(f"submit: {exc.status_code} {exc.message}")
                    continue
                done.append((worker.pk, judgment.pk, time.monotonic()))
    except Exception as exc:  # noqa: BLE001 - any crash in a thread (a deadlock too) is a failed invariant
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(2))
def test_stopping_workers_while_others_claim_and_submit_keeps_the_invariants(researcher, round_):
    batch = running_batch(researcher, [persona_dataset(slug=f"qc-race{round_}", rows=40)], overlap=K)
    # Accounts the researcher made: theirs to stop even before their first claim.
    made = services.workers_bulk_create(created_by=researcher, count=10)
    crowd = list(get_user_model().objects.filter(username__in=[m["username"] for m in made]).order_by("pk"))
    bad = crowd[:3]
    errors, done, stop_event = [], [], threading.Event()
    threads = [
        threading.Thread(target=_work, args=(w, batch.pk, round_ * 100 + i, errors, done, stop_event))
        for i, w in enumerate(crowd)
    ]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 20
        while len(done) < 15 and time.monotonic() < deadline:
            time.sleep(0.01)
        for w in bad:  # while the others keep claiming and submitting
            worker_stop(batch=batch, worker_id=w.pk, reason="under test", actor=researcher, set_aside=True)
    except Exception as exc:  # noqa: BLE001
        errors.append(f"stop: {type(exc).__name__}: {exc}")
    finally:
        time.sleep(0.5)
        stop_event.set()
        for t in threads:
            t.join()
    assert errors == []
    assert WorkerStop.objects.filter(batch=batch, lifted_at__isnull=True).count() == len(bad)

    # Nothing a stopped worker submitted counts: what came before the stop was set aside, and no
    # submit was accepted after it (it would count: the stop sets aside only what it saw).
    bad_ids = {w.pk for w in bad}
    assert not Judgment.objects.filter(batch=batch, worker_id__in=bad_ids, set_aside=False).exists()
    # Their leases went back and nothing is handed to them. On PostgreSQL a claim in flight at the
    # very moment of the stop (its last statement read before the stop committed, its commit came
    # after the stop's second pass) can leave one lease: it is hidden from them, a submit of it is
    # refused, and it returns at expiry (see annotation.services.quality._stragglers).
    for w in bad:
        assert services.assignment_claim_next(worker=w, batch=batch.pk) is None
        assert services.assignment_claim_next(worker=w) is None
    services.leases_expire(now=timezone.now() + timedelta(days=1))

    # The others finish the batch: every item ends with exactly k valid judgments and exact counters.
    good = crowd[len(bad) :]
    progress = True
    while progress:
        progress = False
        for w in good:
            a = services.assignment_claim_next(worker=w, batch=batch.pk)
            if a is not None:
                services.judgment_submit(
                    assignment_id=a.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False
                )
                progress = True
    for item in Item.objects.filter(batch=batch):
        valid = Judgment.objects.filter(item=item, set_aside=False).count()
        assert item.judgment_count == valid == K
        assert item.lease_count == Assignment.objects.filter(item=item, status="active").count() == 0
        assert item.completed_at is not None
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    connection.close()

"""Pausing and resuming while 20 workers claim and submit, each thread its own connection: the
counters stay equal to the live leases and the judgments, no valid submit is refused with a
wrong message, and no worker is left holding an assignment they cannot get past."""

import threading
import time

import pytest
from django.db import connections
from django.db.models import Count, Q

from annotation import services
from annotation.models import Assignment, Item, Judgment
from annotation.services import engine
from qa.errors import ApplicationError
from tests.annotation.factories import persona_dataset, running_batch, workers

THREADS = 20
CYCLES = 150
K = 3


def _work(worker, batch_id, stop, wrong, stuck, crashes):
    try:
        while not stop.is_set():
            lease = services.assignment_claim_next(worker=worker, batch=batch_id)
            if lease is None:
                time.sleep(0.01)  # paused, or nothing left for this worker now
                continue
            try:
                services.judgment_submit(
                    assignment_id=lease.pk, worker=worker, relevance=3, answer=" Yes", ambiguous=False
                )
            except ApplicationError as exc:
                # Refusals a pause explains: the batch is paused, or the released slot was taken.
                # Each lease is submitted once, so "already judged" is always wrong here.
                if exc.status_code != 409 or "already judged" in exc.message:
                    wrong.append(f"{exc.status_code} {exc.message}")
                continue
            after = services.assignment_claim_next(worker=worker, batch=batch_id)
            if after is not None and after.pk == lease.pk:
                stuck.append(lease.pk)
            if after is not None:  # hand it back so the loop starts from a clean claim
                services.assignment_skip(assignment_id=after.pk, worker=worker)
    except Exception as exc:  # noqa: BLE001 - a crash in a thread (a 500) is a failed check
        crashes.append(f"{type(exc).__name__}: {exc}")
    finally:
        connections.close_all()


# Not marked slow: CI's SQLite step skips slow tests, and the invariants must hold there too.
@pytest.mark.django_db(transaction=True)
def test_pausing_and_resuming_while_20_workers_claim_and_submit_strands_nobody(researcher):
    batch = running_batch(
        researcher, [persona_dataset(slug="pauses", rows=1500)], overlap=K, lease_seconds=300
    )
    crowd = workers(THREADS, prefix="pr")
    wrong, stuck, crashes, stop = [], [], [], threading.Event()
    threads = [threading.Thread(target=_work, args=(w, batch.pk, stop, wrong, stuck, crashes)) for w in crowd]
    for t in threads:
        t.start()
    try:
        for _ in range(CYCLES):
            time.sleep(0.005)
            try:
                services.batch_pause(batch=batch, user=researcher)
            except ApplicationError:
                break  # the crowd finished the batch: nothing left to pause
            time.sleep(0.005)
            services.batch_resume(batch=batch, user=researcher)
    finally:
        stop.set()
        for t in threads:
            t.join()

    assert crashes == []
    assert wrong == []
    assert stuck == []
    assert Judgment.objects.filter(batch=batch).exists()
    items = Item.objects.filter(batch=batch).annotate(
        live=Count("assignments", filter=Q(assignments__status=Assignment.Status.ACTIVE), distinct=True),
        judged=Count("judgments", distinct=True),
    )
    for item in items:
        assert (item.pk, item.lease_count) == (item.pk, item.live)
        assert (item.pk, item.judgment_count) == (item.pk, item.judged)
        assert item.judgment_count + item.lease_count <= K


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claim_committing_while_a_pause_waits_for_its_item_keeps_its_lease_counted(researcher, monkeypatch):
    # The pause listed the batch's live leases (B's on the item), then waited for the item's row
    # lock, which A's claim of the same item held until it committed. Setting the item's counter
    # to 0 then forgot A's lease: A's later submit broke the counter's CHECK and was told
    # "You already judged this item", and A's next claim returned the same lease for ever.
    batch = running_batch(researcher, [persona_dataset(slug="held", rows=3)], overlap=3, lease_seconds=300)
    a, b = workers(2, prefix="held")
    first = services.assignment_claim_next(worker=b, batch=batch.pk)
    in_claim, go_on = threading.Event(), threading.Event()
    real_lease, claimed = engine._lease, []

    def slow_lease(*args):
        if threading.current_thread().name == "claimer":
            in_claim.set()
            go_on.wait(10)
        return real_lease(*args)

    monkeypatch.setattr(engine, "_lease", slow_lease)  # runs inside the claim's transaction

    def claim():
        try:
            claimed.append(services.assignment_claim_next(worker=a, batch=batch.pk))
        finally:
            connections.close_all()

    def pause():
        try:
            services.batch_pause(batch=batch, user=researcher)
        finally:
            connections.close_all()

    claimer = threading.Thread(target=claim, name="claimer")
    claimer.start()
    assert in_claim.wait(10)
    pauser = threading.Thread(target=pause)
    pauser.start()
    time.sleep(0.5)  # let the pause list B's lease and queue for the item's lock
    go_on.set()
    claimer.join()
    pauser.join()
    (lease,) = claimed
    assert lease.item_id == first.item_id

    services.batch_resume(batch=batch, user=researcher)
    item = Item.objects.get(pk=lease.item_id)
    assert item.lease_count == Assignment.objects.filter(item=item, status=Assignment.Status.ACTIVE).count()
    again = services.assignment_claim_next(worker=a, batch=batch.pk)
    if again is not None and again.pk == lease.pk:  # A's lease outlived the pause: A may submit it
        services.judgment_submit(
            assignment_id=lease.pk, worker=a, relevance=3, answer=" Yes", ambiguous=False
        )
        following = services.assignment_claim_next(worker=a, batch=batch.pk)
        assert following is None or following.pk != lease.pk
    item.refresh_from_db()
    assert item.lease_count == Assignment.objects.filter(item=item, status=Assignment.Status.ACTIVE).count()
    assert item.judgment_count == Judgment.objects.filter(item=item).count()


@pytest.mark.django_db(transaction=True)
def test_a_broken_counter_on_submit_is_a_server_error_not_already_judged(researcher):
    from django.db import IntegrityError

    batch = running_batch(researcher, [persona_dataset(slug="check", rows=2)], overlap=2)
    (w,) = workers(1, prefix="chk")
    lease = services.assignment_claim_next(worker=w, batch=batch.pk)
    Item.objects.filter(pk=lease.item_id).update(lease_count=0)  # as the racing pause left it
    with pytest.raises(IntegrityError):
        services.judgment_submit(
            assignment_id=lease.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False
        )
    assert not Judgment.objects.filter(assignment_id=lease.pk).exists()

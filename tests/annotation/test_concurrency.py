"""The engine's invariants under real concurrency: 32 threads, each its own database connection,
more workers than k, small k, and a lease so short that expiry races happen."""

import random
import threading
import time

import pytest
from django.db import connection, connections

from annotation import services
from annotation.models import Assignment, Batch, Item, Judgment
from qa.errors import ApplicationError
from tests.annotation.factories import persona_dataset, running_batch, workers

THREADS = 32


def _work(worker, batch_id, seed, accepted, errors, deadline):
    rng = random.Random(seed)
    try:
        idle = 0
        while time.monotonic() < deadline and idle < 15:
            try:
                assignment = services.assignment_claim_next(worker=worker, batch=batch_id)
            except ApplicationError as exc:
                errors.append(f"claim: {exc.message}")
                continue
            if assignment is None:
                idle += 1
                time.sleep(0.05)
                continue
            idle = 0
            roll = rng.random()
            if roll < 0.1:
                time.sleep(1.1)  # outlive the one-second lease: the slot may be taken meanwhile
            elif roll < 0.15:
                services.assignment_skip(assignment_id=assignment.pk, worker=worker)
                continue
            key = f"{worker.pk}-{assignment.pk}"
            try:
                judgment = services.judgment_submit(
                    assignment_id=assignment.pk, worker=worker, relevance=rng.randint(1, 5),
                    answer=rng.choice([" Yes", " No"]), ambiguous=rng.random() < 0.2, idempotency_key=key,
                )  # fmt: skip
            except ApplicationError as exc:
                if exc.status_code != 409:
                    errors.append(f"submit: {exc.status_code} {exc.message}")
                continue
            accepted.append(judgment.pk)
            if rng.random() < 0.1:  # a retried request: the same key must give the same judgment
                again = services.judgment_submit(
                    assignment_id=assignment.pk, worker=worker, relevance=1, answer=" No", ambiguous=True,
                    idempotency_key=key,
                )  # fmt: skip
                if again.pk != judgment.pk:
                    errors.append("idempotent resubmit gave another judgment")
    except Exception as exc:  # noqa: BLE001 - any crash in a thread is a failed invariant
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        connections.close_all()


def _drain(batch, crowd):
    """Finish what the racing threads left: sweep leases, then judge sequentially."""
    services.leases_expire()
    progress = True
    while progress:
        progress = False
        for worker in crowd:
            a = services.assignment_claim_next(worker=worker, batch=batch.pk)
            if a is not None:
                services.judgment_submit(
                    assignment_id=a.pk, worker=worker, relevance=3, answer=" Yes", ambiguous=False
                )
                progress = True


# Not marked slow: CI's SQLite step skips slow tests, and the invariants must be proven on the
# SQLite default too (about 5 s a round).
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_32_concurrent_workers_never_break_the_invariants(researcher, round_):
    k = 2
    batch = running_batch(
        researcher, [persona_dataset(slug=f"race{round_}", rows=40)], overlap=k, lease_seconds=1
    )
    crowd = workers(THREADS + 4, prefix=f"r{round_}w")
    accepted, errors = [], []
    deadline = time.monotonic() + 20
    threads = [
        threading.Thread(target=_work, args=(w, batch.pk, round_ * 1000 + i, accepted, errors, deadline))
        for i, w in enumerate(crowd[:THREADS])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

    _drain(batch, crowd)

    counts = dict(Item.objects.filter(batch=batch).values_list("pk", "judgment_count"))
    stored = Judgment.objects.filter(batch=batch)
    # No accepted submission lost.
    assert set(accepted) <= set(stored.values_list("pk", flat=True))
    # Exactly k judgments per item, the counters agree with the rows, nobody judged an item twice.
    per_item = {}
    pairs = set()
    for item_id, worker_id in stored.values_list("item_id", "worker_id"):
        per_item[item_id] = per_item.get(item_id, 0) + 1
        assert (item_id, worker_id) not in pairs
        pairs.add((item_id, worker_id))
    assert per_item == counts
    assert set(counts.values()) == {k}
    assert not Item.objects.filter(batch=batch, lease_count__gt=0).exists()
    assert not Assignment.objects.filter(batch=batch, status="active").exists()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(2))
def test_32_concurrent_workers_keep_the_invariants_of_an_adaptive_batch(researcher, round_):
    # Adaptive (k_min 2, k_max 3) with random answers: about half the items are raised to 3, while
    # leases expire and are reclaimed, skips and replays happen, as for fixed k above.
    batch = running_batch(
        researcher, [persona_dataset(slug=f"adapt{round_}", rows=40)], lease_seconds=1,
        overlap_policy=Batch.OverlapPolicy.ADAPTIVE, k_min=2, k_max=3,
    )  # fmt: skip
    crowd = workers(THREADS + 4, prefix=f"a{round_}w")
    accepted, errors = [], []
    deadline = time.monotonic() + 20
    threads = [
        threading.Thread(
            target=_work, args=(w, batch.pk, 7000 + round_ * 1000 + i, accepted, errors, deadline)
        )
        for i, w in enumerate(crowd[:THREADS])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

    _drain(batch, crowd)

    stored = Judgment.objects.filter(batch=batch)
    assert set(accepted) <= set(stored.values_list("pk", flat=True))
    answers, pairs = {}, set()
    for item_id, worker_id, answer, ambiguous in stored.values_list(
        "item_id", "worker_id", "answer", "ambiguous"
    ):
        assert (item_id, worker_id) not in pairs  # never one worker twice
        pairs.add((item_id, worker_id))
        answers.setdefault(item_id, []).append((answer, ambiguous))
    for item in Item.objects.filter(batch=batch):
        given = answers.get(item.pk, [])
        # The counters are exact, the target follows from the answers, never over k_max.
        assert item.judgment_count == len(given) <= 3
        assert item.target == services.item_target(
            policy=batch.overlap_policy, k_min=2, k_max=3, overlap=3,
            answers=[a for a, _ in given], ambiguous_votes=[v for _, v in given],
        )  # fmt: skip
        assert item.completed_at is not None and item.judgment_count >= item.target
        assert item.lease_count == 0
    counts = {len(v) for v in answers.values()}
    assert counts <= {2, 3} and len(answers) == 40
    assert not Assignment.objects.filter(batch=batch, status="active").exists()
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    connection.close()

"""Narrow races, each with its own database connections: SKIP LOCKED on PostgreSQL, and one
worker's retried submissions arriving at the same moment (a flaky connection, a double Enter)."""

import threading
import time

import pytest
from django.db import connections, transaction

from annotation import services
from annotation.models import Item, Judgment
from qa.errors import ApplicationError
from tests.annotation.factories import persona_dataset, running_batch, workers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claimer_passes_over_an_item_another_transaction_locked_without_waiting(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=3)], overlap=1)
    (w,) = workers(1)
    first = Item.objects.filter(batch=batch).order_by("position").first()
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Item.objects.select_for_update().get(pk=first.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(5)
        start = time.monotonic()
        assignment = services.assignment_claim_next(worker=w, batch=batch)
        waited = time.monotonic() - start
    finally:
        release.set()
        holder.join()
    assert assignment.item_id != first.pk
    assert waited < 1.0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_key", [True, False])
def test_simultaneous_submissions_of_one_assignment_store_one_judgment(researcher, same_key):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=3)
    (w,) = workers(1)
    assignment = services.assignment_claim_next(worker=w, batch=batch)
    results, barrier = [], threading.Barrier(8)

    def submit(i):
        try:
            barrier.wait(5)
            judgment = services.judgment_submit(
                assignment_id=assignment.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False,
                idempotency_key="same" if same_key else f"key-{i}",
            )  # fmt: skip
            results.append(("ok", judgment.pk))
        except ApplicationError as exc:
            results.append((exc.status_code, exc.message))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    stored = list(Judgment.objects.filter(item__batch=batch).values_list("pk", flat=True))
    assert len(stored) == 1
    assert Item.objects.get(pk=assignment.item_id).judgment_count == 1
    accepted = [r for r in results if r[0] == "ok"]
    if same_key:
        assert results == [("ok", stored[0])] * 8
    else:
        assert accepted == [("ok", stored[0])]
        assert sorted(code for code, _ in results if code != "ok") == [409] * 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pausing_and_resuming_while_workers_submit_never_deadlocks(researcher):
    # Pausing locks the batch's leases, then their items, then the batch, in the order a submit
    # takes them; in the other order PostgreSQL aborted one of the two with a deadlock error.
    batch = running_batch(researcher, [persona_dataset(rows=60)], overlap=2, lease_seconds=60)
    team = workers(6)
    errors, stop = [], threading.Event()

    def work(w):
        try:
            while not stop.is_set():
                a = services.assignment_claim_next(worker=w, batch=batch.pk)
                ahead = services.assignment_claim_next(worker=w, batch=batch.pk, ahead=True)
                for lease in (a, ahead):
                    if lease is None:
                        continue
                    try:
                        services.judgment_submit(
                            assignment_id=lease.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False
                        )
                    except ApplicationError:
                        pass  # refused while paused: expected
                if a is None:
                    time.sleep(0.005)
        except Exception as exc:  # a deadlock surfaces here as OperationalError
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(w,)) for w in team]
    for t in threads:
        t.start()
    try:
        for _ in range(25):
            services.batch_pause(batch=batch, user=researcher)
            services.batch_resume(batch=batch, user=researcher)
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    for item in Item.objects.filter(batch=batch):
        assert item.judgment_count == Judgment.objects.filter(item=item).count() <= 2


@pytest.mark.django_db(transaction=True)
def test_one_participants_simultaneous_claims_never_pass_the_quota(researcher):
    # Eight requests of one participant at once (tabs, retries, the page fetching ahead): each one
    # sees room for one more item unless claims of one worker in a quota batch take turns.
    from annotation.models import Assignment
    from tests.annotation.factories import participant

    batch = running_batch(researcher, [persona_dataset(rows=20)], overlap=1, quota_per_worker=2)
    w = participant(batch)
    services.judgment_submit(
        assignment_id=services.assignment_claim_next(worker=w, batch=batch).pk,
        worker=w, relevance=3, answer=" Yes", ambiguous=False,
    )  # fmt: skip
    results, barrier = [], threading.Barrier(8)

    def claim(i):
        try:
            barrier.wait(5)
            a = services.assignment_claim_next(worker=w, batch=batch.pk, ahead=i % 2 == 0)
            results.append(a and a.pk)
        except Exception as exc:  # noqa: BLE001 - any crash is a failure
            results.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r is None or isinstance(r, int) for r in results), results
    live = Assignment.objects.filter(worker=w, status=Assignment.Status.ACTIVE).count()
    assert Judgment.objects.filter(worker=w).count() + live == 2
    assert len({r for r in results if r is not None}) == 1  # every request got the one lease, or none


@pytest.mark.django_db(transaction=True)
def test_participants_judging_in_parallel_tabs_give_exactly_their_quota(researcher):
    from tests.annotation.factories import participant

    batch = running_batch(researcher, [persona_dataset(rows=30)], overlap=2, quota_per_worker=5)
    crowd = [participant(batch, pid=f"p{i}", session_id=f"s{i}") for i in range(3)]
    errors = []

    def tab(w, i):
        try:
            while True:
                a = services.assignment_claim_next(worker=w, batch=batch.pk, ahead=i % 2 == 1)
                if a is None:
                    return
                try:
                    services.judgment_submit(
                        assignment_id=a.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False
                    )
                except ApplicationError as exc:
                    if exc.status_code != 409:  # the other tab submitted it first
                        errors.append(exc.message)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tab, args=(w, i)) for w in crowd for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for w in crowd:
        assert Judgment.objects.filter(worker=w, batch=batch).count() == 5


@pytest.mark.django_db(transaction=True)
def test_two_researchers_creating_accounts_by_count_at_once_both_get_their_accounts(
    researcher, other_researcher
):
    """Both would pick the same free names (worker1, worker2, ...): they take turns instead of one
    of them getting a 409 or a 400 naming accounts it never asked for."""
    from django.contrib.auth import get_user_model

    results, barrier = {}, threading.Barrier(2)

    def create(owner):
        try:
            barrier.wait(5)
            results[owner.username] = services.workers_bulk_create(created_by=owner, count=40)
        except ApplicationError as exc:
            results[owner.username] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(owner,)) for owner in (researcher, other_researcher)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(made, list) and len(made) == 40 for made in results.values()), results
    names = [a["username"] for made in results.values() for a in made]
    assert len(set(names)) == 80
    assert get_user_model().objects.filter(username__in=names).count() == 80

"""One round trip per judgment: a submit with "next": true also hands out the worker's next item."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from annotation import services
from annotation.models import Assignment, Judgment, WorkerProfile
from annotation.services import engine
from tests.annotation.factories import persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db

LIVE = Assignment.Status.ACTIVE


def submit(worker, assignment, key="k1", **kwargs):
    return services.judgment_submit_and_claim(
        assignment_id=assignment.pk, worker=worker, relevance=3, answer=" Yes", ambiguous=False,
        idempotency_key=key, **kwargs,
    )  # fmt: skip


def live(worker):
    return sorted(Assignment.objects.filter(worker=worker, status=LIVE).values_list("pk", flat=True))


def test_a_submit_with_next_stores_the_judgment_and_hands_out_the_next_item(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap=1)
    (w,) = workers(1)
    first = services.assignment_claim_next(worker=w, batch=batch)
    result = submit(w, first)
    assert result.judgment.assignment_id == first.pk and Judgment.objects.get().pk == result.judgment.pk
    assert result.next_status == services.NEXT_CLAIMED
    assert result.next.item_id != first.item_id and result.next.batch_id == batch.pk
    assert live(w) == [result.next.pk]
    assert Judgment.objects.get().next_assignment_id == result.next.pk
    assert services.item_payload(assignment=result.next)["question"]


def test_with_one_item_fetched_ahead_next_is_the_one_after_it_and_never_a_third_lease(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap=1)
    (w,) = workers(1)
    current = services.assignment_claim_next(worker=w, batch=batch)
    ahead = services.assignment_claim_next(worker=w, batch=batch, ahead=True)
    result = submit(w, current)
    assert result.next.pk not in (current.pk, ahead.pk)
    assert live(w) == sorted([ahead.pk, result.next.pk])
    # Steady state: each submit hands out one more, the worker always holding two.
    again = submit(w, ahead, key="k2")
    assert live(w) == sorted([result.next.pk, again.next.pk])


def test_a_replay_of_the_combined_request_gives_back_the_same_judgment_and_the_same_next_item(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap=1)
    (w,) = workers(1)
    first = services.assignment_claim_next(worker=w, batch=batch)
    original = submit(w, first)
    replay = submit(w, first)
    assert replay.judgment.pk == original.judgment.pk
    assert (replay.next.pk, replay.next_status) == (original.next.pk, services.NEXT_CLAIMED)
    assert live(w) == [original.next.pk]  # no second lease
    assert Judgment.objects.count() == 1
    assert services.item_payload(assignment=replay.next) == services.item_payload(assignment=original.next)


@pytest.mark.parametrize("fate", ["submitted", "expired", "skipped"])
def test_a_replay_whose_next_item_is_no_longer_live_says_what_became_of_it(researcher, fate):
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap=1)
    (w,) = workers(1)
    first = services.assignment_claim_next(worker=w, batch=batch)
    handed = submit(w, first).next
    if fate == "submitted":
        submit(w, handed, key="k2")
    elif fate == "skipped":
        services.assignment_skip(assignment_id=handed.pk, worker=w)
    else:
        Assignment.objects.filter(pk=handed.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    leases = live(w)
    replay = submit(w, first)
    assert (replay.next, replay.next_status) == (None, fate)
    assert live(w) == leases  # nothing handed out a second time


def test_a_replay_after_the_batch_was_paused_says_the_item_was_released(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap=1)
    (w,) = workers(1)
    first = services.assignment_claim_next(worker=w, batch=batch)
    submit(w, first)
    services.batch_pause(batch=batch, user=researcher)
    replay = submit(w, first)
    assert (replay.next, replay.next_status) == (None, "released")


def test_a_submit_whose_next_claim_finds_no_work_answers_next_none(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1)
    (w,) = workers(1)
    only = services.assignment_claim_next(worker=w, batch=batch)
    result = submit(w, only)
    assert (result.next, result.next_status) == (None, services.NEXT_NONE)
    assert Judgment.objects.get().next_assignment_id is None
    batch.refresh_from_db()
    assert batch.status == "completed"


def test_a_replay_of_a_submit_that_found_no_work_hands_out_at_most_one_item(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    w, other = workers(2)
    mine = services.assignment_claim_next(worker=w, batch=batch)
    theirs = services.assignment_claim_next(worker=other, batch=batch)
    assert submit(w, mine).next is None
    services.assignment_skip(assignment_id=theirs.pk, worker=other)  # the item is open again
    replay = submit(w, mine)
    assert replay.next.item_id == theirs.item_id
    assert submit(w, mine).next.pk == replay.next.pk
    assert live(w) == [replay.next.pk]


def test_the_quota_reached_by_this_judgment_answers_next_none(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=6)], overlap=1, quota_per_worker=2)
    (w,) = workers(1)
    first = services.assignment_claim_next(worker=w, batch=batch)
    second = submit(w, first).next
    assert second is not None
    result = submit(w, second, key="k2")
    assert (result.next, result.next_status) == (None, services.NEXT_NONE)
    assert Judgment.objects.filter(worker=w).count() == 2 and live(w) == []


def test_next_continues_in_the_judged_batch_unless_told_otherwise(researcher):
    one = running_batch(researcher, [persona_dataset(slug="a", rows=1)], overlap=1, name="one")
    two = running_batch(researcher, [persona_dataset(slug="b", rows=3)], overlap=1, name="two")
    (w,) = workers(1)
    first = services.assignment_claim_next(worker=w, batch=one)
    assert submit(w, first).next is None  # batch one has no more work, and two is not asked for
    first = services.assignment_claim_next(worker=w, batch=two)
    assert submit(w, first, key="k2", next_batch=services.ANY_BATCH).next.batch_id == two.pk


def test_a_replay_racing_another_replay_hands_out_the_lease_stored_first(researcher, monkeypatch):
    # Two replays of one request in flight at once (a client retrying while the first is still in
    # flight): the one that stores its lease first wins; the other's claim is rolled back.
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap=1)
    (w,) = workers(1)
    first = services.assignment_claim_next(worker=w, batch=batch)
    services.judgment_submit(
        assignment_id=first.pk, worker=w, relevance=3, answer=" Yes", ambiguous=False, idempotency_key="k1"
    )
    rival = services.assignment_claim_next(worker=w, batch=batch)
    submitted = engine._submitted

    def read_then_rival_stores(*args):
        judgment, stored_now = submitted(*args)  # this replay reads the judgment: no lease stored yet
        Judgment.objects.filter(assignment=first.pk).update(
            next_assignment=rival.pk
        )  # the rival commits its own
        return judgment, stored_now

    monkeypatch.setattr(engine, "_submitted", read_then_rival_stores)
    result = submit(w, first)
    assert (result.next.pk, result.next_status) == (rival.pk, services.NEXT_CLAIMED)
    assert live(w) == [rival.pk]  # the racing claim's lease was rolled back


@pytest.mark.django_db(transaction=True)
def test_simultaneous_replays_of_the_combined_request_hand_out_one_item(researcher):
    # A flaky connection or a double Enter: eight copies of one request (same key) at the same moment,
    # each with its own database connection. One judgment, one lease handed out, the same in every answer.
    batch = running_batch(researcher, [persona_dataset(rows=10)], overlap=1)
    (w,) = workers(1)
    first = services.assignment_claim_next(worker=w, batch=batch)
    results, barrier = [], threading.Barrier(8)

    def replay():
        try:
            barrier.wait(5)
            result = submit(w, first, key="same")
            results.append((result.judgment.pk, result.next.pk if result.next else None, result.next_status))
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            results.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=replay) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (judgment,) = Judgment.objects.filter(worker=w)
    assert judgment.next_assignment_id is not None
    assert results == [(judgment.pk, judgment.next_assignment_id, services.NEXT_CLAIMED)] * 8
    assert live(w) == [judgment.next_assignment_id]


def test_submit_and_claim_take_a_handful_of_queries(researcher, django_assert_num_queries):
    # The submit's 7 (see test_services.py), then the claim's transaction: own leases, batch, lazy
    # expiry, candidate, insert, counter, the lease stored on the judgment, and its savepoint pair.
    batch = running_batch(researcher, [persona_dataset(rows=5)])
    (w,) = workers(1)
    first = services.assignment_claim_next(worker=w, batch=batch.pk)
    with django_assert_num_queries(16):
        result = submit(w, first)
    with django_assert_num_queries(0):
        services.item_payload(assignment=result.next)


# --- the API ---------------------------------------------------------------------------------------

JUDGMENT = {"relevance": 4, "answer": " Yes", "ambiguous": False, "idempotency_key": "key-1"}


@pytest.fixture
def batch(researcher):
    return running_batch(researcher, [persona_dataset(rows=4)], overlap=2)


def test_the_api_answers_the_judgment_and_the_next_item_in_one_response(api, worker, batch):
    client = api(worker)
    first = client.post("/api/v1/assignments/next", {"batch": batch.pk}, format="json").json()
    response = client.post(
        f"/api/v1/assignments/{first['id']}/judgment", {**JUDGMENT, "next": True}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"judgment", "next", "next_status"} and body["next_status"] == "claimed"
    assert body["judgment"]["assignment"] == first["id"]
    assert body["next"]["item"] != first["item"] and set(body["next"]) >= {
        "id",
        "question",
        "choices",
        "expires_at",
    }
    replay = client.post(
        f"/api/v1/assignments/{first['id']}/judgment", {**JUDGMENT, "next": True}, format="json"
    )
    assert replay.status_code == 201 and replay.json() == body


def test_the_api_answers_next_null_when_there_is_no_work_left(api, worker, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1)
    client = api(worker)
    first = client.post("/api/v1/assignments/next", {"batch": batch.pk}, format="json").json()
    body = client.post(
        f"/api/v1/assignments/{first['id']}/judgment", {**JUDGMENT, "next": True}, format="json"
    ).json()
    assert (body["next"], body["next_status"]) == (None, "none")


def test_without_next_the_api_answers_the_judgment_alone(api, worker, batch):
    client = api(worker)
    first = client.post("/api/v1/assignments/next", {"batch": batch.pk}, format="json").json()
    body = client.post(f"/api/v1/assignments/{first['id']}/judgment", JUDGMENT, format="json").json()
    assert body["assignment"] == first["id"] and "next" not in body
    assert Assignment.objects.filter(worker=worker, status=LIVE).count() == 0


def test_a_batch_without_next_is_a_400_and_stores_nothing(api, worker, batch):
    client = api(worker)
    first = client.post("/api/v1/assignments/next", {"batch": batch.pk}, format="json").json()
    response = client.post(
        f"/api/v1/assignments/{first['id']}/judgment", {**JUDGMENT, "batch": batch.pk}, format="json"
    )
    assert response.status_code == 400 and response.json()["error"].startswith("batch")
    assert not Judgment.objects.exists()


def test_next_in_a_batch_that_is_not_the_workers_is_a_404_and_stores_nothing(
    api, batch, researcher, other_researcher
):
    (w,) = workers(1)
    WorkerProfile.objects.create(user=w, created_by=researcher)
    elsewhere = running_batch(other_researcher, [persona_dataset(slug="theirs", rows=2)], overlap=1)
    client = api(w)
    first = client.post("/api/v1/assignments/next", {"batch": batch.pk}, format="json").json()
    response = client.post(
        f"/api/v1/assignments/{first['id']}/judgment",
        {**JUDGMENT, "next": True, "batch": elsewhere.pk},
        format="json",
    )
    assert response.status_code == 404 and response.json()["error"].startswith("batch")
    assert not Judgment.objects.exists()


def test_next_with_batch_null_continues_in_any_batch_of_the_worker(api, worker, researcher):
    one = running_batch(researcher, [persona_dataset(slug="a", rows=1)], overlap=1, name="one")
    two = running_batch(researcher, [persona_dataset(slug="b", rows=2)], overlap=1, name="two")
    client = api(worker)
    first = client.post("/api/v1/assignments/next", {"batch": one.pk}, format="json").json()
    body = client.post(
        f"/api/v1/assignments/{first['id']}/judgment",
        {**JUDGMENT, "next": True, "batch": None},
        format="json",
    ).json()
    assert body["next"]["batch"] == two.pk

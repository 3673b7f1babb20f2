"""Every annotation endpoint against every persona, and the workflow refusals as the API says them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotation import services
from annotation.models import Assignment, Batch, Judgment
from tests.annotation.factories import persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db

GOOD = {"relevance": 4, "answer": " Yes", "ambiguous": False}


@pytest.fixture
def batch(researcher):
    return running_batch(researcher, [persona_dataset(rows=4)], overlap=2)


def _researcher_calls(batch_id):
    """(method, path, body) of every researcher endpoint that names a batch."""
    return [
        ("get", f"/api/v1/batches/{batch_id}/", None),
        ("get", f"/api/v1/batches/{batch_id}/progress", None),
        ("get", f"/api/v1/batches/{batch_id}/workers", None),
        ("get", f"/api/v1/batches/{batch_id}/judgments?format=jsonl", None),
        ("get", f"/api/v1/batches/{batch_id}/judgments?format=csv", None),
        ("post", f"/api/v1/batches/{batch_id}/pause", None),
        ("post", f"/api/v1/batches/{batch_id}/resume", None),
        ("post", f"/api/v1/batches/{batch_id}/launch", None),
        ("post", f"/api/v1/batches/{batch_id}/cancel", None),
    ]


def _call(client, method, path, body=None):
    return getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)


def test_the_owner_reaches_every_batch_endpoint(api, researcher, batch):
    client = api(researcher)
    expected = [200, 200, 200, 200, 200, 200, 200, 409, 200]  # launching a running batch is a conflict
    got = [_call(client, *call).status_code for call in _researcher_calls(batch.pk)]
    assert got == expected
    assert _call(client, "get", "/api/v1/batches/").status_code == 200


def test_another_researcher_gets_404_on_every_endpoint_of_the_batch(api, other_researcher, batch):
    client = api(other_researcher)
    assert [_call(client, *call).status_code for call in _researcher_calls(batch.pk)] == [404] * 9
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.RUNNING


@pytest.mark.parametrize("persona", ["worker", "outsider", None])
def test_workers_outsiders_and_anonymous_reach_no_researcher_endpoint(api, request, batch, persona):
    client = api(request.getfixturevalue(persona) if persona else None)
    refused = {401, 403}
    for call in _researcher_calls(batch.pk):
        assert _call(client, *call).status_code in refused, call
    assert client.get("/api/v1/batches/").status_code in refused
    create = {"name": "x", "datasets": [persona_dataset(slug="other", rows=1).pk]}
    assert client.post("/api/v1/batches/", create, format="json").status_code in refused
    assert client.post("/api/v1/workers", {"count": 1}, format="json").status_code in refused
    assert Batch.objects.count() == 1


@pytest.mark.parametrize("persona", ["researcher", "outsider", None])
def test_only_workers_reach_the_worker_endpoints(api, request, batch, persona):
    (w,) = workers(1)
    held = services.assignment_claim_next(worker=w, batch=batch)
    client = api(request.getfixturevalue(persona) if persona else None)
    refused = {401, 403}
    assert client.post("/api/v1/assignments/next", {}, format="json").status_code in refused
    assert client.post(f"/api/v1/assignments/{held.pk}/judgment", GOOD, format="json").status_code in refused
    assert client.post(f"/api/v1/assignments/{held.pk}/skip").status_code in refused
    assert not Judgment.objects.exists()
    assert Assignment.objects.get(pk=held.pk).status == Assignment.Status.ACTIVE


def test_a_worker_cannot_skip_another_workers_assignment(api, worker, batch):
    (other,) = workers(1)
    theirs = services.assignment_claim_next(worker=other, batch=batch)
    assert api(worker).post(f"/api/v1/assignments/{theirs.pk}/skip").status_code == 404
    assert Assignment.objects.get(pk=theirs.pk).status == Assignment.Status.ACTIVE


def test_a_worker_filters_by_batch_gets_204_from_a_paused_batch_and_404_from_a_missing_one(api, worker, researcher, batch):
    client = api(worker)
    paused = running_batch(researcher, [persona_dataset(slug="paused", rows=2)])
    services.batch_pause(batch=paused, user=researcher)
    assert client.post("/api/v1/assignments/next", {"batch": paused.pk}, format="json").status_code == 204
    # A missing batch answers as one the worker may not see: 404, naming nothing.
    assert client.post("/api/v1/assignments/next", {"batch": 999999}, format="json").status_code == 404
    got = client.post("/api/v1/assignments/next", {"batch": batch.pk}, format="json")
    assert got.status_code == 200 and got.json()["batch"] == batch.pk


def test_the_same_idempotency_key_through_the_api_gives_the_same_judgment(api, worker, batch):
    client = api(worker)
    a = client.post("/api/v1/assignments/next", {}, format="json").json()
    body = {**GOOD, "idempotency_key": "retry-1"}
    first = client.post(f"/api/v1/assignments/{a['id']}/judgment", body, format="json")
    again = client.post(f"/api/v1/assignments/{a['id']}/judgment", body, format="json")
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    other_key = client.post(f"/api/v1/assignments/{a['id']}/judgment", {**GOOD, "idempotency_key": "x"}, format="json")
    assert other_key.status_code == 409 and "already judged" in other_key.json()["error"]
    assert Judgment.objects.count() == 1


@pytest.mark.parametrize("action", ["pause", "cancel"])
def test_judging_after_the_owner_stopped_the_batch_is_a_409(api, researcher, worker, batch, action):
    client = api(worker)
    a = client.post("/api/v1/assignments/next", {}, format="json").json()
    api(researcher).post(f"/api/v1/batches/{batch.pk}/{action}")
    response = client.post(f"/api/v1/assignments/{a['id']}/judgment", GOOD, format="json")
    assert response.status_code == 409 and "not accepted now" in response.json()["error"]
    assert not Judgment.objects.exists()


def test_an_expired_lease_whose_slot_was_taken_is_a_409_with_a_clear_message(api, researcher, worker):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    client = api(worker)
    late = client.post("/api/v1/assignments/next", {}, format="json").json()
    Assignment.objects.filter(pk=late["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    (quick,) = workers(1)
    taken = services.assignment_claim_next(worker=quick, batch=batch)
    services.judgment_submit(assignment_id=taken.pk, worker=quick, **GOOD)
    response = client.post(f"/api/v1/assignments/{late['id']}/judgment", GOOD, format="json")
    assert response.status_code == 409
    assert "expired" in response.json()["error"] and "was not recorded" in response.json()["error"]
    assert Judgment.objects.filter(worker=worker).count() == 0


def test_a_late_answer_to_a_completed_batch_is_a_409_that_says_so(api, researcher, worker):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1)
    client = api(worker)
    late = client.post("/api/v1/assignments/next", {}, format="json").json()
    Assignment.objects.filter(pk=late["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    (quick,) = workers(1)
    services.judgment_submit(assignment_id=services.assignment_claim_next(worker=quick, batch=batch).pk, worker=quick, **GOOD)
    response = client.post(f"/api/v1/assignments/{late['id']}/judgment", GOOD, format="json")
    assert response.status_code == 409 and "already complete" in response.json()["error"]


def test_k_larger_than_the_possible_workers_is_accepted_and_reported_at_risk(api, researcher):
    dataset = persona_dataset(rows=2)
    client = api(researcher)
    created = client.post("/api/v1/batches/", {"name": "big k", "datasets": [dataset.pk], "overlap": 10}, format="json")
    assert created.status_code == 201
    client.post(f"/api/v1/batches/{created.json()['id']}/launch")
    progress = client.get(f"/api/v1/batches/{created.json()['id']}/progress").json()
    assert progress["at_risk"] is True and progress["eligible_workers"] < 10

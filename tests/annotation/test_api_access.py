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
    return (
        getattr(client, method)(path, body, format="json")
        if body is not None
        else getattr(client, method)(path)
    )


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


def test_a_worker_filters_by_batch_gets_204_from_a_paused_batch_and_404_from_a_missing_one(
    api, worker, researcher, batch
):
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
    other_key = client.post(
        f"/api/v1/assignments/{a['id']}/judgment", {**GOOD, "idempotency_key": "x"}, format="json"
    )
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
    services.judgment_submit(
        assignment_id=services.assignment_claim_next(worker=quick, batch=batch).pk, worker=quick, **GOOD
    )
    response = client.post(f"/api/v1/assignments/{late['id']}/judgment", GOOD, format="json")
    assert response.status_code == 409 and "already complete" in response.json()["error"]


def test_k_larger_than_the_possible_workers_is_accepted_and_reported_at_risk(api, researcher):
    dataset = persona_dataset(rows=2)
    client = api(researcher)
    created = client.post(
        "/api/v1/batches/", {"name": "big k", "datasets": [dataset.pk], "overlap": 10}, format="json"
    )
    assert created.status_code == 201
    client.post(f"/api/v1/batches/{created.json()['id']}/launch")
    progress = client.get(f"/api/v1/batches/{created.json()['id']}/progress").json()
    assert progress["at_risk"] is True and progress["eligible_workers"] < 10


# --- what each kind of worker can read, endpoint by endpoint -----------------------------------------
# Personas beside the fixtures: a platform participant who entered through `batch`'s link, and a
# worker account that other_researcher made. Neither may read a label (answer_matching_behavior),
# a label_confidence, another worker's judgment, or the items (or name) of a study not theirs.

WORKER_PAGES = [
    "/",
    "/work/",
    "/work/all/",
    "/work/all/progress",
    "/work/{mine}/",
    "/work/{mine}/progress",
    "/work/{mine}/done",
]
NOT_FOR_WORKERS = [
    "/api/v1/datasets/", "/api/v1/datasets/{dataset}/", "/api/v1/datasets/{dataset}/examples/",
    "/api/v1/datasets/{dataset}/export", "/api/v1/datasets/{dataset}/report", "/api/v1/datasets/{dataset}/report/x",
    "/api/v1/datasets/{dataset}/validated.jsonl", "/api/v1/imports/", "/api/v1/imports/1/", "/api/v1/runs/",
    "/api/v1/runs/1/", "/api/v1/runs/1/cancel", "/api/v1/batches/", "/api/v1/batches/{batch}/",
    "/api/v1/batches/{batch}/launch", "/api/v1/batches/{batch}/pause", "/api/v1/batches/{batch}/resume",
    "/api/v1/batches/{batch}/cancel", "/api/v1/batches/{batch}/progress", "/api/v1/batches/{batch}/workers",
    "/api/v1/batches/{batch}/judgments", "/api/v1/batches/{batch}/report", "/api/v1/batches/{batch}/report/x",
    "/api/v1/batches/{batch}/validated.jsonl", "/api/v1/workers", "/api/v1/reports/compare",
    "/datasets/", "/datasets/{dataset}/", "/datasets/upload/", "/datasets/imports/1/", "/datasets/runs/",
    "/datasets/runs/endpoints/", "/datasets/runs/1/", "/datasets/runs/1/progress", "/datasets/runs/1/cancel",
    "/reports/", "/reports/compare/", "/reports/batches/{batch}/", "/reports/batches/{batch}/refresh",
    "/reports/datasets/{dataset}/", "/reports/datasets/{dataset}/refresh", "/batches/", "/batches/new",
    "/reports/origins/", "/api/v1/batches/{batch}/validated.meta.json", "/api/v1/datasets/{dataset}/validated.meta.json",
    "/batches/{batch}/", "/batches/{batch}/pause", "/workers/new", "/workers/", "/workers/1/deactivate", "/batches/{batch}/preview",
    "/api/v1/datasets/{dataset}/near-duplicates", "/api/v1/maps/datasets/{dataset}", "/api/v1/maps/datasets/{dataset}/points",
    "/api/v1/maps/collections/persona", "/api/v1/maps/collections/persona/points", "/reports/maps/datasets/{dataset}/",
    "/reports/maps/datasets/{dataset}/progress", "/reports/maps/collections/persona/points",
    "/api/v1/evaluations/", "/api/v1/evaluations/1/", "/api/v1/evaluations/1/cancel", "/api/v1/evaluations/1/compare",
    "/api/v1/evaluations/1/results.csv", "/evaluations/", "/evaluations/1/", "/evaluations/1/compare",
    "/evaluations/1/cancel", "/evaluations/1/results.csv",
    "/api/v1/batches/{batch}/quality/", "/api/v1/batches/{batch}/quality/rules", "/api/v1/batches/{batch}/quality/stops",
    "/api/v1/batches/{batch}/quality/log", "/api/v1/batches/{batch}/quality/reinstate",
    "/batches/{batch}/quality/rules", "/batches/{batch}/quality/reinstate",
]  # fmt: skip
# Reached by anyone, or elsewhere tested: the entry and invite links (tests/annotation/test_onboarding.py),
# sign-in, the schema and its viewers, the health check, the worker API (driven below).
ELSEWHERE = {
    "platform-entry", "invite-accept", "login", "logout", "api-token", "schema", "api-docs", "api-redoc", "healthz", "favicon",
    "api-assignment-next", "api-judgment-submit", "api-assignment-skip", "worker-progress-all",
}  # fmt: skip
FORBIDDEN = [
    "answer_matching_behavior",
    "answer_not_matching_behavior",
    "label_confidence",
    "OTHER-WORKERS-COMMENT",
]


def test_the_matrix_names_every_endpoint_of_the_service():
    from django.urls import URLResolver, get_resolver, resolve

    def names(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.app_name != "admin":
                    yield from names(p.url_patterns)
            else:
                yield p.name

    ids = {"mine": 1, "batch": 1, "dataset": 1}
    covered = {resolve(path.format(**ids).split("?")[0]).url_name for path in WORKER_PAGES + NOT_FOR_WORKERS}
    missing = set(names(get_resolver().url_patterns)) - covered - ELSEWHERE
    assert not missing, f"add these to the worker access matrix: {sorted(missing)}"


@pytest.fixture
def world(researcher, other_researcher, batch):
    """rita's batch (one judgment by another worker in it) and oscar's study, with each worker persona."""
    from tests.annotation.factories import made_by, participant

    theirs = running_batch(
        other_researcher, [persona_dataset(slug="oscarsecret", rows=3)], name="OSCARS-STUDY"
    )
    (other,) = workers(1, prefix="other")
    a = services.assignment_claim_next(worker=other, batch=batch)
    services.judgment_submit(assignment_id=a.pk, worker=other, comment="OTHER-WORKERS-COMMENT", **GOOD)
    return {
        "batch": batch,
        "theirs": theirs,
        "participant": (participant(batch), batch, theirs),
        "oscars recruit": (made_by(other_researcher), theirs, batch),
    }


def _assert_reveals_nothing(body: str, foreign, where):
    for word in [*FORBIDDEN, foreign.name, f"of {foreign.datasets.first().slug}"]:
        assert word not in body, (where, word)


@pytest.mark.parametrize("persona", ["participant", "oscars recruit"])
def test_a_worker_reads_no_label_no_other_judgment_and_nothing_of_another_study_anywhere(
    client, api, world, persona
):
    user, mine, foreign = world[persona]
    client.force_login(user)
    ids = {"mine": mine.pk}
    for path in WORKER_PAGES:
        response = client.get(path.format(**ids), follow=True)
        assert response.status_code == 200, path
        _assert_reveals_nothing(response.content.decode(), foreign, path)
    for batch in (mine, foreign):
        for dataset in (mine.datasets.first(), foreign.datasets.first()):
            for path in NOT_FOR_WORKERS:
                path = path.format(batch=batch.pk, dataset=dataset.pk)
                for method in ("get", "post"):
                    response = getattr(client, method)(path)
                    assert response.status_code in {403, 404, 405}, (method, path, response.status_code)
                    _assert_reveals_nothing(response.content.decode(), foreign, path)
    # The worker API, driven to the end of the worker's work: every answer, the item fetched ahead
    # and the judgments' echoes included.
    worker_api = api(user)
    for body in ({"batch": foreign.pk}, {"batch": foreign.pk, "ahead": True}):
        response = worker_api.post("/api/v1/assignments/next", body, format="json")
        assert response.status_code == 404
        _assert_reveals_nothing(response.content.decode(), foreign, body)
    seen = 0
    while True:
        response = worker_api.post("/api/v1/assignments/next", {"ahead": seen % 2 == 1}, format="json")
        _assert_reveals_nothing(response.content.decode(), foreign, "next")
        if response.status_code == 204:
            break
        assert response.json()["batch"] == mine.pk
        seen += 1
        submitted = worker_api.post(
            f"/api/v1/assignments/{response.json()['id']}/judgment", GOOD, format="json"
        )
        _assert_reveals_nothing(submitted.content.decode(), foreign, "judgment")
    assert seen > 0
    foreign_lease = Assignment.objects.filter(batch=foreign).first()
    if foreign_lease is not None:
        assert worker_api.post(f"/api/v1/assignments/{foreign_lease.pk}/skip").status_code == 404
    assert not Judgment.objects.filter(worker=user, batch=foreign).exists()

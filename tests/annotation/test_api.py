"""Every annotation endpoint with the personas: owner researcher, other researcher, worker, outsider."""

import json

import pytest

from annotation import services
from annotation.models import Judgment
from tests.annotation.factories import judge, persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(researcher):
    return running_batch(researcher, [persona_dataset(rows=4)], overlap=2)


def test_a_researcher_creates_and_launches_a_batch_through_the_contract(api, researcher):
    dataset = persona_dataset(rows=6)
    client = api(researcher)
    response = client.post(
        "/api/v1/batches/",
        {"name": "pilot", "datasets": [dataset.pk], "sample_size": None, "overlap": 3, "lease_seconds": 600,
         "instructions": "Be careful.", "gold_rate": 0},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["sample_size"] is None
    launched = client.post(f"/api/v1/batches/{body['id']}/launch")
    assert launched.json()["status"] == "running"
    progress = client.get(f"/api/v1/batches/{body['id']}/progress").json()
    assert progress["items_total"] == 6 and progress["items_complete"] == 0


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "x", "datasets": []}, "datasets"),
        ({"name": "x", "datasets": [999999]}, "datasets"),
        ({"datasets": [1]}, "name"),
        ({"name": "x", "datasets": [1], "overlap": 0}, "overlap"),
        ({"name": "x", "datasets": [1], "gold_rate": 1.5}, "gold_rate"),
    ],
)
def test_bad_batch_input_gets_a_400_naming_the_field_and_creates_nothing(api, researcher, payload, field):
    persona_dataset(rows=2)
    response = api(researcher).post("/api/v1/batches/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"].startswith(field)
    assert not researcher.batches.exists()


@pytest.mark.parametrize("action, status", [("pause", "paused"), ("cancel", "cancelled")])
def test_the_owner_pauses_or_cancels(api, researcher, batch, action, status):
    response = api(researcher).post(f"/api/v1/batches/{batch.pk}/{action}")
    assert response.status_code == 200 and response.json()["status"] == status


def test_resuming_a_running_batch_is_a_409(api, researcher, batch):
    response = api(researcher).post(f"/api/v1/batches/{batch.pk}/resume")
    assert response.status_code == 409
    assert "only a paused batch" in response.json()["error"]


def test_another_researcher_cannot_see_or_touch_the_batch(api, other_researcher, batch):
    client = api(other_researcher)
    assert client.get(f"/api/v1/batches/{batch.pk}/").status_code == 404
    assert client.post(f"/api/v1/batches/{batch.pk}/pause").status_code == 404
    assert client.get(f"/api/v1/batches/{batch.pk}/judgments").status_code == 404
    assert client.get("/api/v1/batches/").json() == []


def test_an_admin_sees_every_batch(api, admin_user, batch):
    assert [b["id"] for b in api(admin_user).get("/api/v1/batches/").json()] == [batch.pk]


@pytest.mark.parametrize("persona", ["worker", "outsider"])
def test_workers_and_outsiders_get_403_on_batch_endpoints(api, request, batch, persona):
    client = api(request.getfixturevalue(persona))
    assert client.get("/api/v1/batches/").status_code == 403
    assert client.post(f"/api/v1/batches/{batch.pk}/launch").status_code == 403
    assert client.post("/api/v1/workers", {"count": 2}, format="json").status_code == 403


def test_anonymous_requests_are_refused(api, batch):
    assert api().post("/api/v1/assignments/next").status_code in (401, 403)
    assert api().get("/api/v1/batches/").status_code in (401, 403)


def test_a_worker_claims_judges_and_gets_204_when_done(api, worker, batch):
    client = api(worker)
    seen = 0
    while True:
        response = client.post("/api/v1/assignments/next", {"batch": batch.pk}, format="json")
        if response.status_code == 204:
            break
        body = response.json()
        assert set(body) >= {"id", "item", "expires_at", "behavior", "question", "choices"}
        assert "answer_matching_behavior" not in json.dumps(body)
        submitted = client.post(
            f"/api/v1/assignments/{body['id']}/judgment",
            {
                "relevance": 4,
                "answer": " Yes",
                "ambiguous": False,
                "comment": "",
                "idempotency_key": f"k{seen}",
            },
            format="json",
        )
        assert submitted.status_code == 201, submitted.json()
        seen += 1
    assert seen == 4 == Judgment.objects.filter(worker=worker).count()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"relevance": 0, "answer": " Yes", "ambiguous": False}, "relevance"),
        ({"relevance": 6, "answer": " Yes", "ambiguous": False}, "relevance"),
        ({"relevance": "high", "answer": " Yes", "ambiguous": False}, "relevance"),
        ({"relevance": 3, "answer": " Maybe", "ambiguous": False}, "answer"),
        ({"relevance": 3, "ambiguous": False}, "answer"),
        ({"relevance": 3, "answer": " Yes"}, "ambiguous"),
    ],
)
def test_a_bad_judgment_gets_a_400_naming_the_field_and_stores_nothing(api, worker, batch, payload, field):
    client = api(worker)
    assignment = client.post("/api/v1/assignments/next", format="json").json()
    response = client.post(f"/api/v1/assignments/{assignment['id']}/judgment", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"].startswith(field)
    assert not Judgment.objects.exists()


def test_a_worker_cannot_judge_another_workers_assignment(api, worker, batch):
    (other,) = workers(1)
    theirs = services.assignment_claim_next(worker=other, batch=batch)
    response = api(worker).post(
        f"/api/v1/assignments/{theirs.pk}/judgment",
        {"relevance": 3, "answer": " Yes", "ambiguous": False},
        format="json",
    )
    assert response.status_code == 404
    assert not Judgment.objects.exists()


def test_a_worker_skips_through_the_api(api, worker, batch):
    client = api(worker)
    first = client.post("/api/v1/assignments/next", format="json").json()
    assert client.post(f"/api/v1/assignments/{first['id']}/skip").status_code == 204
    second = client.post("/api/v1/assignments/next", format="json").json()
    assert second["item"] != first["item"]


def test_researchers_cannot_claim_work_unless_they_are_workers(api, researcher, batch):
    assert api(researcher).post("/api/v1/assignments/next").status_code == 403


def test_bulk_worker_creation_returns_credentials_once(api, researcher):
    response = api(researcher).post("/api/v1/workers", {"usernames": ["ann", "bob"]}, format="json")
    assert response.status_code == 201
    assert [w["username"] for w in response.json()["workers"]] == ["ann", "bob"]
    again = api(researcher).post("/api/v1/workers", {"usernames": ["ann"]}, format="json")
    assert again.status_code == 400 and "already taken: ann" in again.json()["error"]
    neither = api(researcher).post("/api/v1/workers", {}, format="json")
    assert neither.status_code == 400


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_the_owner_streams_the_judgments(api, researcher, batch, fmt):
    for w in workers(2):
        judge(w, batch, relevance=4)
    response = api(researcher).get(f"/api/v1/batches/{batch.pk}/judgments?format={fmt}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    if fmt == "jsonl":
        records = [json.loads(line) for line in body.splitlines()]
        assert len(records) == 2
        assert set(records[0]) >= {
            "item",
            "example",
            "worker",
            "relevance",
            "answer",
            "ambiguous",
            "comment",
            "seconds",
            "submitted_at",
        }
    else:
        lines = body.strip().splitlines()
        assert lines[0].startswith("judgment,batch,item,example") and len(lines) == 3


def test_an_unknown_export_format_is_a_400(api, researcher, batch):
    response = api(researcher).get(f"/api/v1/batches/{batch.pk}/judgments?format=xml")
    assert response.status_code == 400
    assert "jsonl, csv" in response.json()["error"]

"""Workers see, open and claim only the batches they are entitled to (annotation/selectors.py):
a platform participant the batch they entered, a researcher's own recruit that researcher's
batches; every other batch is a 404 that names nothing, on the pages and in the API alike. And a
batch's quota is never passed, the item fetched ahead included."""

import pytest

from annotation import services
from annotation.models import Assignment, Judgment
from tests.annotation.factories import made_by, participant, persona_dataset, running_batch

pytestmark = pytest.mark.django_db

SECRET = "oscar's secret study"
GOOD = {"relevance": 4, "answer": " Yes", "ambiguous": False}


@pytest.fixture
def rita_batch(researcher):
    return running_batch(researcher, [persona_dataset(rows=4)], overlap=1, name="rita's study")


@pytest.fixture
def oscar_running(other_researcher):
    return running_batch(other_researcher, [persona_dataset(slug="o", rows=4)], overlap=1, name=SECRET)


@pytest.fixture
def oscar_draft(other_researcher):
    return services.batch_create(
        owner=other_researcher, name=SECRET + " draft", datasets=[persona_dataset(slug="d", rows=2)]
    )


@pytest.fixture
def personas(rita_batch, researcher, worker):
    """Each kind of worker account, and whether it may see rita's batch."""
    return {
        "participant of rita's batch": participant(rita_batch),
        "made by rita": made_by(researcher, "rita-recruit"),
        "made by an admin": worker,
    }


def _worker_paths(batch_id):
    return [f"/work/{batch_id}/", f"/work/{batch_id}/progress", f"/work/{batch_id}/done"]


@pytest.mark.parametrize("persona", ["participant of rita's batch", "made by rita", "made by an admin"])
def test_another_researchers_draft_is_a_404_on_every_worker_page_that_names_nothing(
    client, personas, oscar_draft, persona
):
    client.force_login(personas[persona])
    for path in _worker_paths(oscar_draft.pk):
        response = client.get(path)
        assert response.status_code == 404, path
        assert SECRET not in response.content.decode()


@pytest.mark.parametrize("persona", ["participant of rita's batch", "made by rita"])
def test_another_researchers_running_batch_is_a_404_on_every_worker_page(
    client, personas, oscar_running, persona
):
    client.force_login(personas[persona])
    for path in _worker_paths(oscar_running.pk):
        response = client.get(path)
        assert response.status_code == 404, path
        assert SECRET not in response.content.decode()
    assert SECRET not in client.get("/work/").content.decode()


def test_the_worker_home_lists_only_the_batches_each_worker_may_work_in(
    client, personas, rita_batch, oscar_running, other_researcher
):
    oscars = made_by(other_researcher, "oscar-recruit")
    expected = {
        "participant of rita's batch": ["rita's study"],
        "made by rita": ["rita's study"],
        "made by an admin": ["rita's study", SECRET],
    }
    for persona, user in [*personas.items(), ("made by oscar", oscars)]:
        client.force_login(user)
        page = client.get("/work/").content.decode()
        shown = [name for name in ["rita's study", SECRET] if name.replace("'", "&#x27;") in page]
        assert shown == expected.get(persona, [SECRET]), persona


def test_a_participant_cannot_claim_in_another_study_through_the_api(api, rita_batch, oscar_running):
    client = api(participant(rita_batch))
    response = client.post("/api/v1/assignments/next", {"batch": oscar_running.pk}, format="json")
    assert response.status_code == 404
    assert SECRET not in response.content.decode()
    assert not Assignment.objects.filter(batch=oscar_running).exists()
    # Asking for any batch gives only work of the study they entered.
    got = client.post("/api/v1/assignments/next", {}, format="json")
    assert got.status_code == 200 and got.json()["batch"] == rita_batch.pk


def test_every_batch_page_counts_only_the_work_a_participant_may_do(client, rita_batch, oscar_running):
    client.force_login(participant(rita_batch))
    assert client.get("/work/all/progress").json()["left_estimate"] == 4


def test_an_assignment_in_a_batch_the_worker_may_not_see_can_be_neither_judged_nor_skipped(
    api, rita_batch, oscar_running
):
    # A lease left over from before entitlement was enforced: the worker cannot act on it.
    w = participant(rita_batch)
    item = oscar_running.items.first()
    stray = Assignment.objects.create(
        item=item,
        worker=w,
        batch=oscar_running,
        claimed_at=item.batch.launched_at,
        expires_at=item.batch.launched_at,
    )
    Assignment.objects.filter(pk=stray.pk).update(expires_at="2999-01-01T00:00:00Z")
    client = api(w)
    assert client.post(f"/api/v1/assignments/{stray.pk}/judgment", GOOD, format="json").status_code == 404
    assert client.post(f"/api/v1/assignments/{stray.pk}/skip").status_code == 404
    assert not Judgment.objects.exists()
    assert Assignment.objects.get(pk=stray.pk).status == Assignment.Status.ACTIVE


def _label_like_the_page(client, batch_id):
    """What label.js does: the current item, then one fetched ahead while judging it."""
    given, statuses = 0, []
    current = client.post("/api/v1/assignments/next", {"batch": batch_id}, format="json")
    while current.status_code == 200:
        ahead = client.post("/api/v1/assignments/next", {"batch": batch_id, "ahead": True}, format="json")
        statuses.append(ahead.status_code)
        submitted = client.post(f"/api/v1/assignments/{current.json()['id']}/judgment", GOOD, format="json")
        assert submitted.status_code == 201, submitted.content
        given += 1
        current = (
            ahead
            if ahead.status_code == 200
            else client.post("/api/v1/assignments/next", {"batch": batch_id}, format="json")
        )
    return given, statuses


def test_a_quota_of_5_takes_5_judgments_the_item_fetched_ahead_included(client, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=20)], overlap=1, quota_per_worker=5)
    w = participant(batch)
    client.force_login(w)
    given, ahead_statuses = _label_like_the_page(client, batch.pk)
    assert given == 5 and Judgment.objects.filter(worker=w).count() == 5
    assert ahead_statuses[-1] == 204  # at 4 given + 1 held, nothing more is fetched ahead
    assert not Assignment.objects.filter(worker=w, status=Assignment.Status.ACTIVE).exists()


def test_a_participant_at_quota_sees_only_the_end_page_with_the_code(client, researcher, other_researcher):
    batch = running_batch(researcher, [persona_dataset(rows=20)], overlap=1, quota_per_worker=2)
    running_batch(researcher, [persona_dataset(slug="more", rows=5)], overlap=1, name="another of rita's")
    w = participant(batch)
    client.force_login(w)
    _label_like_the_page(client, batch.pk)
    response = client.get(f"/work/{batch.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/work/{batch.pk}/done"
    done = client.get(response["Location"]).content.decode()
    assert batch.completion_code in done and "Other work" not in done
    home = client.get("/work/").content.decode()
    assert "another of rita" not in home and batch.name not in home
    assert client.post("/api/v1/assignments/next", {}, format="json").status_code == 204

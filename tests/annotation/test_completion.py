"""Completion on crowd platforms: the platform's code, carried the way the platform expects it."""

import pytest

from annotation import completion
from annotation.models import WorkerProfile
from annotation.selectors import batch_worker_table
from qa.errors import ApplicationError
from tests.annotation.factories import judge, participant, persona_dataset, running_batch

pytestmark = pytest.mark.django_db

PROLIFIC = "https://app.prolific.com/submissions/complete?cc="


def _finished_page(client, batch, pid="p1"):
    client.get(f"/enter/{batch.entry_token}/?PROLIFIC_PID={pid}&SESSION_ID=s-{pid}")
    judge(WorkerProfile.objects.get(external_id=pid).user, batch)
    return client.get(f"/work/{batch.pk}/done").content.decode()


def test_a_pasted_prolific_code_is_shown_and_carried_in_the_redirect(client, researcher):
    batch = running_batch(
        researcher, [persona_dataset(rows=1)], overlap=1, completion_url=PROLIFIC, completion_code="C1A2B3C4"
    )
    page = _finished_page(client, batch)
    assert 'id="completion-code">C1A2B3C4<' in page
    assert 'content="4;url=https://app.prolific.com/submissions/complete?cc=C1A2B3C4"' in page


def test_the_code_in_a_pasted_prolific_url_is_the_batchs_code(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], completion_url=PROLIFIC + "C9ZZ")
    assert batch.completion_code == "C9ZZ"


def test_a_prolific_url_with_an_empty_code_and_no_code_given_is_refused(researcher):
    with pytest.raises(ApplicationError, match="completion_code: the completion URL's cc= is empty"):
        running_batch(researcher, [persona_dataset(rows=1)], completion_url=PROLIFIC)


def test_a_code_that_contradicts_the_urls_code_is_refused(researcher):
    with pytest.raises(ApplicationError, match="differs from the code in the completion URL"):
        running_batch(
            researcher, [persona_dataset(rows=1)], completion_url=PROLIFIC + "AAA", completion_code="BBB"
        )


def test_a_code_placeholder_is_filled_in_for_other_platforms():
    batch = type("B", (), {"completion_url": "https://other.example/done/{code}?x=1"})()
    assert completion.completion_redirect(batch=batch, code="K7") == "https://other.example/done/K7?x=1"


def test_per_participant_codes_differ_and_each_reaches_its_participant(client, researcher):
    batch = running_batch(
        researcher,
        [persona_dataset(rows=2)],
        overlap=2,
        completion_url=PROLIFIC,
        completion_mode="per_participant",
    )
    one, two = participant(batch, "pa", "sa"), participant(batch, "pb", "sb")
    codes = [completion.completion_code_for(batch=batch, worker=w) for w in (one, two)]
    assert codes[0] != codes[1] and batch.completion_code not in codes
    judge(one, batch)
    judge(one, batch)
    client.force_login(one)
    page = client.get(f"/work/{batch.pk}/done").content.decode()
    assert f'id="completion-code">{codes[0]}<' in page and f"cc={codes[0]}" in page
    # The researcher can check each participant's code in the worker table.
    assert [r["completion_code"] for r in batch_worker_table(batch=batch)] == [codes[0]]


def test_per_participant_codes_need_a_place_in_the_url(researcher):
    with pytest.raises(ApplicationError, match="completion_url: per-participant codes need a place"):
        running_batch(
            researcher,
            [persona_dataset(rows=1)],
            completion_url="https://x.example/done",
            completion_mode="per_participant",
        )


def test_an_unknown_mode_is_refused_with_the_allowed_ones(researcher):
    with pytest.raises(ApplicationError, match="shared, per_participant"):
        running_batch(researcher, [persona_dataset(rows=1)], completion_mode="each")


def test_the_api_takes_the_platforms_code_and_mode(api, researcher):
    dataset = persona_dataset(rows=1)
    response = api(researcher).post(
        "/api/v1/batches/",
        {"name": "b", "datasets": [dataset.pk], "completion_url": PROLIFIC, "completion_code": "CODE1"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["completion_code"] == "CODE1" and response.json()["completion_mode"] == "shared"
    refused = api(researcher).post(
        "/api/v1/batches/", {"name": "b", "datasets": [dataset.pk], "completion_url": PROLIFIC}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["extra"]["field"] == "completion_code"


def test_the_batch_form_says_how_the_code_reaches_the_platform_and_names_a_bad_field(client, researcher):
    dataset = persona_dataset(rows=1)
    client.force_login(researcher)
    form = client.get("/batches/new").content.decode()
    assert "cc=YOURCODE" in form and "{code}" in form and "per participant" in form.lower()
    response = client.post(
        "/batches/new",
        {"name": "b", "datasets": [dataset.pk], "overlap": 1, "lease_minutes": 15, "gold_rate": 0,
         "completion_url": PROLIFIC, "completion_code": "", "completion_mode": "shared"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "the completion URL&#x27;s cc= is empty" in response.content.decode()

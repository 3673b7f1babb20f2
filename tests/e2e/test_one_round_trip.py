"""The labelling page's steady state: one request per judgment, the next item already on screen."""

import json

import pytest

from annotation.models import Assignment, Judgment
from tests.annotation.factories import persona_dataset, running_batch
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _is_ahead_claim(request) -> bool:
    return request.url.endswith("/api/v1/assignments/next") and json.loads(request.post_data or "{}").get("ahead") is True


def test_a_judgment_and_the_next_item_cost_one_request_in_steady_state(page, live_server, researcher, worker):
    batch = running_batch(researcher, [persona_dataset(rows=8)], overlap=1)
    log_in(page, live_server, worker.username, PASSWORD)
    sent = []
    page.on("request", lambda r: sent.append(r) if "/api/v1/assignments/" in r.url else None)
    with page.expect_request_finished(_is_ahead_claim):  # the first item, then the one fetched ahead
        page.goto(f"{live_server.url}/work/{batch.pk}/")
        page.wait_for_selector("#judgment:not([hidden])")
    assert len(sent) == 2
    sent.clear()

    questions = []
    for n in range(3):
        question = page.inner_text("#question")
        questions.append(question)
        page.keyboard.press("4")
        page.keyboard.press("y")
        page.keyboard.press("Enter")
        page.wait_for_function(f"document.getElementById('progress').textContent.startsWith('{n + 1} done')")
        page.wait_for_function("q => document.getElementById('question').textContent !== q", arg=question)
    page.evaluate("1")  # a round trip to the page, so that every request it made has been reported

    assert [r.url.rsplit("/api/v1/", 1)[1] for r in sent] == [
        f"assignments/{j.assignment_id}/judgment" for j in Judgment.objects.filter(worker=worker).order_by("pk")
    ]
    assert all(json.loads(r.post_data)["next"] is True for r in sent)
    assert len(set(questions)) == 3
    # The worker holds the item on screen and the one fetched ahead, no more.
    assert Assignment.objects.filter(worker=worker, status=Assignment.Status.ACTIVE).count() == 2


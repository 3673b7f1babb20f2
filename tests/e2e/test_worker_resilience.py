"""The labelling page keeps what the worker typed: retries on a lost connection with the same
idempotency key, shows refusals inline, and skips with one key."""

import json

import pytest

from annotation.models import Assignment, Judgment
from tests.annotation.factories import persona_dataset, running_batch
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _open(page, live_server, worker, batch):
    log_in(page, live_server, worker.username, PASSWORD)
    page.goto(f"{live_server.url}/work/{batch.pk}/")
    page.wait_for_selector("#judgment:not([hidden])")


def test_a_lost_connection_is_retried_with_the_same_key_and_stores_one_judgment(
    page, live_server, researcher, worker
):
    batch = running_batch(researcher, [persona_dataset(rows=3)], overlap=1)
    _open(page, live_server, worker, batch)
    sent = []

    def flaky(route):
        sent.append(json.loads(route.request.post_data)["idempotency_key"])
        if len(sent) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/assignments/*/judgment", flaky)
    page.keyboard.press("4")
    page.keyboard.press("n")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('progress').textContent.startsWith('1 done')")
    assert len(sent) == 2 and sent[0] == sent[1]
    (judgment,) = Judgment.objects.filter(worker=worker)
    assert (judgment.relevance, judgment.answer, judgment.idempotency_key) == (4, " No", sent[0])


def test_a_refused_answer_is_shown_inline_and_the_input_stays(page, live_server, researcher, worker):
    batch = running_batch(researcher, [persona_dataset(rows=3)], overlap=1)
    _open(page, live_server, worker, batch)
    body = {"error": "answer: ' Maybe' is not among the choices ' Yes', ' No'", "extra": {"field": "answer"}}
    page.route(
        "**/api/v1/assignments/*/judgment",
        lambda route: route.fulfill(status=400, content_type="application/json", body=json.dumps(body)),
    )
    question = page.inner_text("#question")
    page.keyboard.press("2")
    page.keyboard.press("y")
    page.fill("#comment", "the statement is odd")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("document.getElementById('status').textContent.includes('not among the choices')")
    assert page.inner_text("#question") == question
    assert page.input_value("#comment") == "the statement is odd"
    assert page.get_attribute("[data-relevance='2']", "aria-pressed") == "true"
    assert "invalid" in page.get_attribute("#field-answer", "class")
    assert not Judgment.objects.exists()

    page.unroute("**/api/v1/assignments/*/judgment")
    page.focus("#comment")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("document.getElementById('progress').textContent.startsWith('1 done')")
    assert Judgment.objects.get().comment == "the statement is odd"


def test_s_skips_the_item_and_it_is_not_offered_again(page, live_server, researcher, worker):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    _open(page, live_server, worker, batch)
    question = page.inner_text("#question")
    page.keyboard.press("s")
    page.wait_for_function("q => document.getElementById('question').textContent !== q", arg=question)
    assert "about 1 left" in page.inner_text("#progress")
    assert Assignment.objects.get(worker=worker, status="skipped").item.example.question == question
    page.keyboard.press("3")
    page.keyboard.press("y")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/work/{batch.pk}/done")
    assert Judgment.objects.filter(worker=worker).count() == 1

import pytest

from annotation.models import Judgment
from tests.annotation.factories import multiple_choice_dataset, persona_dataset, running_batch
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_worker_labels_three_items_with_the_keyboard_only(page, live_server, researcher, worker):
    batch = running_batch(researcher, [persona_dataset(rows=5)], overlap=1)
    log_in(page, live_server, worker.username, PASSWORD)
    page.goto(f"{live_server.url}/work/{batch.pk}/")
    page.wait_for_selector("#judgment:not([hidden])")
    assert "0 done, about 5 left" in page.inner_text("#progress")
    assert "Suppose there is a person" in page.inner_text("#behavior")

    questions = []
    for n, (relevance, answer_key, ambiguous) in enumerate([("5", "y", False), ("3", "n", True), ("4", "y", False)]):
        question = page.inner_text("#question")
        questions.append(question)
        page.keyboard.press(relevance)
        page.keyboard.press(answer_key)
        if ambiguous:
            page.keyboard.press("x")
            assert page.get_attribute("#ambiguous", "aria-pressed") == "true"
        page.keyboard.press("Enter")
        page.wait_for_function(f"document.getElementById('progress').textContent.startsWith('{n + 1} done')")
        page.wait_for_function("q => document.getElementById('question').textContent !== q", arg=question)
    assert "3 done, about 2 left" in page.inner_text("#progress")
    assert len(set(questions)) == 3

    stored = list(Judgment.objects.filter(worker=worker).order_by("submitted_at"))
    assert [(j.relevance, j.answer, j.ambiguous) for j in stored] == [(5, " Yes", False), (3, " No", True), (4, " Yes", False)]
    assert [j.item.example.question for j in stored] == questions
    assert all(j.seconds >= 0 for j in stored)


def test_enter_without_a_rating_asks_for_one_and_submits_nothing(page, live_server, researcher, worker):
    batch = running_batch(researcher, [multiple_choice_dataset(rows=2)], overlap=1)
    log_in(page, live_server, worker.username, PASSWORD)
    page.goto(f"{live_server.url}/work/{batch.pk}/")
    page.wait_for_selector("#judgment:not([hidden])")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    assert "Choose a rating first" in page.inner_text("#status")
    assert Judgment.objects.count() == 0
    # The button names the option with its text from the question.
    assert page.locator("[data-answer].chosen").inner_text() == "b (B) Guess"


def test_the_platform_link_leads_through_the_work_to_the_completion_code(page, live_server, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    page.goto(f"{live_server.url}/enter/{batch.entry_token}/?PROLIFIC_PID=pp1&STUDY_ID=st&SESSION_ID=se")
    page.wait_for_selector("#judgment:not([hidden])")
    for _ in range(2):
        question = page.inner_text("#question")
        page.keyboard.press("4")
        page.keyboard.press("y")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "q => location.pathname.endsWith('/done') || document.getElementById('question').textContent !== q",
            arg=question,
        )
    page.wait_for_url(f"**/work/{batch.pk}/done")
    assert page.inner_text("#completion-code") == batch.completion_code
    assert Judgment.objects.filter(worker__worker_profile__external_id="pp1").count() == 2


def test_the_labelling_page_fits_a_phone_without_sideways_scrolling(phone_page, live_server, researcher, worker):
    batch = running_batch(researcher, [multiple_choice_dataset(rows=2)], overlap=1)
    log_in(phone_page, live_server, worker.username, PASSWORD)
    phone_page.goto(f"{live_server.url}/work/{batch.pk}/")
    phone_page.wait_for_selector("#judgment:not([hidden])")
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone_page.tap("[data-relevance='4']")
    phone_page.tap("[data-answer=' (A)']")
    phone_page.tap("button.submit")
    phone_page.wait_for_function("document.getElementById('progress').textContent.startsWith('1 done')")
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for path in ("/work/", f"/work/{batch.pk}/done"):
        phone_page.goto(f"{live_server.url}{path}")
        assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path


def test_the_every_batch_page_serves_items_of_several_batches(page, live_server, researcher, worker):
    first = running_batch(researcher, [persona_dataset(rows=1)], overlap=1, name="first")
    second = running_batch(researcher, [multiple_choice_dataset(rows=1)], overlap=1, name="second")
    log_in(page, live_server, worker.username, PASSWORD)
    page.goto(f"{live_server.url}/work/all/")
    page.wait_for_selector("#judgment:not([hidden])")
    for _ in range(2):
        question = page.inner_text("#question")
        page.keyboard.press("3")
        page.keyboard.press("a" if "Choices" in question else "y")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "q => location.pathname === '/work/' || document.getElementById('question').textContent !== q",
            arg=question,
        )
    page.wait_for_url("**/work/")
    assert {j.batch_id for j in Judgment.objects.filter(worker=worker)} == {first.pk, second.pk}

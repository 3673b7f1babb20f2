"""Running a batch, in a real browser, as a researcher and their workers would notice it (issue 11):
the preview, the workers page, the platform's completion code, the live console, the worker page."""

import pytest

from annotation.models import Assignment, Judgment, WorkerProfile
from tests.annotation.factories import judge, made_by, multiple_choice_dataset, persona_dataset, running_batch
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _label(page, relevance="4", answer="a"):
    question = page.inner_text("#question")
    page.keyboard.press(relevance)
    page.keyboard.press(answer)
    page.keyboard.press("Enter")
    return question


def test_the_researcher_previews_the_labelling_page_with_real_items_and_nothing_is_stored(page, live_server, researcher):
    batch = running_batch(
        researcher, [multiple_choice_dataset(rows=3)], overlap=1, instructions="## Welcome\n\nRead each question."
    )
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    page.click("text=Preview as a worker")
    page.wait_for_selector("#judgment:not([hidden])")
    assert "Nothing you answer here is stored" in page.inner_text("#preview-banner")
    # The first-visit instructions show the Markdown heading as a heading.
    assert page.inner_text("#instructions-body h4") == "Welcome"
    assert page.inner_text("[data-answer=' (B)']") == "b (B) Guess"
    first = _label(page)
    page.wait_for_function("q => document.getElementById('question').textContent !== q", arg=first)
    page.wait_for_function("document.getElementById('progress').textContent.startsWith('1 done')")
    second = _label(page, "2", "b")
    page.wait_for_function("q => document.getElementById('question').textContent !== q", arg=second)
    assert first != second and first.startswith("Question")
    assert not Assignment.objects.exists() and not Judgment.objects.exists()


def test_the_console_worker_table_fills_in_without_a_reload(page, live_server, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=1)
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    assert "No judgments yet" in page.inner_text("#worker-table")
    nina = made_by(researcher, "nina")
    judge(nina, batch)
    judge(nina, batch)
    page.wait_for_selector("#worker-table tr[data-worker-id] >> text=nina", timeout=12_000)
    assert page.inner_text(f"#worker-table tr[data-worker-id='{nina.pk}'] td:nth-child(2)") == "2"


def test_creating_accounts_survives_a_reload_and_deactivating_frees_the_items_held(page, live_server, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=3)], overlap=1)
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/workers/new")
    page.fill("input[name=count]", "2")
    page.click("button:text('Create')")
    page.wait_for_selector("#credentials")
    assert page.locator("#credentials code").count() == 2
    page.reload()
    assert page.locator("#credentials").count() == 0
    assert WorkerProfile.objects.filter(created_by=researcher).count() == 2

    from annotation import services

    holder = WorkerProfile.objects.filter(created_by=researcher).first().user
    services.assignment_claim_next(worker=holder, batch=batch)
    page.goto(f"{live_server.url}/workers/")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click(f"tr[data-worker='{holder.username}'] button[name=deactivate]")
    page.wait_for_selector(f"tr[data-worker='{holder.username}'] button[name=reactivate]")
    assert not Assignment.objects.filter(worker=holder, status="active").exists()
    assert batch.items.filter(lease_count__gt=0).count() == 0


def test_a_participant_goes_back_to_prolific_with_the_platforms_code(page, live_server, researcher):
    batch = running_batch(
        researcher, [persona_dataset(rows=1)], overlap=1,
        completion_url="https://app.prolific.com/submissions/complete?cc=", completion_code="C1A2B3C4",
    )  # fmt: skip
    arrived = []
    page.route("https://app.prolific.com/**", lambda route: (arrived.append(route.request.url), route.fulfill(body="ok")))
    page.goto(f"{live_server.url}/enter/{batch.entry_token}/?PROLIFIC_PID=pp9&STUDY_ID=st&SESSION_ID=se")
    page.wait_for_selector("#judgment:not([hidden])")
    # Nothing in the header a participant has no use for.
    header = page.inner_text("header")
    assert "API" not in header and "prolific-" not in header and "Work" not in header
    _label(page, "5", "y")
    page.wait_for_url(f"**/work/{batch.pk}/done")
    assert page.inner_text("#completion-code") == "C1A2B3C4"
    page.wait_for_url("https://app.prolific.com/submissions/complete?cc=C1A2B3C4", timeout=10_000)
    assert arrived == ["https://app.prolific.com/submissions/complete?cc=C1A2B3C4"]

"""The researcher's console in a browser: numbers that move without a reload, and the buttons."""

import pytest

from tests.annotation.factories import judge, persona_dataset, running_batch, workers
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_batch_page_follows_progress_by_polling(page, live_server, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=1)
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    assert page.inner_text("#progress-card [data-field=judgments]") == "0"
    (w,) = workers(1)
    judge(w, batch)
    judge(w, batch)
    page.wait_for_function(
        "document.querySelector('#progress-card [data-field=judgments]').textContent === '2'", timeout=12_000
    )
    assert page.inner_text("#progress-card [data-field=items_complete]") == "2"


def test_pause_and_resume_from_the_batch_page(page, live_server, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    page.click("button:text('Pause')")
    page.wait_for_selector("#batch-status:text('paused')")
    page.click("button:text('Resume')")
    page.wait_for_selector("#batch-status:text('running')")
    batch.refresh_from_db()
    assert batch.status == "running"


def test_an_adaptive_batch_page_shows_the_share_saved_as_it_grows(page, live_server, researcher):
    batch = running_batch(
        researcher, [persona_dataset(rows=4)], sample_size=None, overlap_policy="adaptive", k_min=2, k_max=3
    )
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    assert page.inner_text("#progress-card [data-field=judgments_needed]") == "8"
    a, b = workers(2)
    judge(a, batch, answer=" Yes")
    judge(b, batch, answer=" Yes")  # the first item agrees at k_min: 1 of its 3 judgments saved
    page.wait_for_function(
        "document.querySelector('#progress-card [data-field=judgments_saved_share]').textContent === '33%'",
        timeout=12_000,
    )
    assert page.inner_text("#progress-card [data-field=judgments_needed]") == "6"


def test_quality_control_from_the_batch_page_rules_stop_log_and_reinstate(page, live_server, researcher):
    from annotation.models import Judgment, QualityRules, WorkerStop
    from tests.annotation.factories import made_by

    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=2)
    w = made_by(researcher, "suspect")
    judge(w, batch)
    log_in(page, live_server, researcher.username, PASSWORD)
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    page.fill("#quality-rules input[name=agreement_alpha]", "0.0001")
    page.click("#quality-rules button:text('Save rules')")
    page.wait_for_selector("#quality-log td:text('rules')")
    assert QualityRules.objects.get(batch=batch).agreement_alpha == 0.0001
    page.fill("#stop-worker input[name=reason]", "answers without reading")
    page.click("#stop-worker button:text('Stop worker')")
    page.wait_for_selector("#stops td.reason:text('answers without reading')")
    assert page.inner_text("#progress-card [data-field=judgments_set_aside]") == "1"
    assert "set_aside" in page.inner_text("#quality-log")
    page.click("#stops button:text('Reinstate')")
    page.wait_for_selector("#stops td:text('reinstated')")
    assert WorkerStop.objects.get(worker=w).lifted_at is not None
    assert not Judgment.objects.filter(worker=w, set_aside=True).exists()

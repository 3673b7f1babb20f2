"""The crowd-platform entry link in a real browser: a clear page without an id, and back to the
platform's completion URL at the end."""

import pytest

from annotation.models import WorkerProfile
from tests.annotation.factories import persona_dataset, running_batch

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_link_without_prolific_pid_shows_a_clear_page(page, live_server, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1)
    response = page.goto(f"{live_server.url}/enter/{batch.entry_token}/?STUDY_ID=st")
    assert response.status == 400
    assert "PROLIFIC_PID is missing" in page.inner_text("#entry-error")
    assert not WorkerProfile.objects.exists()


def test_a_finished_participant_is_sent_back_to_the_platform(page, live_server, researcher):
    back = f"{live_server.url}/healthz?cc=DONE"
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1, completion_url=back)
    page.goto(f"{live_server.url}/enter/{batch.entry_token}/?PROLIFIC_PID=pp2&STUDY_ID=st&SESSION_ID=se")
    page.wait_for_selector("#judgment:not([hidden])")
    page.keyboard.press("5")
    page.keyboard.press("n")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/work/{batch.pk}/done")
    assert page.inner_text("#completion-code") == batch.completion_code
    page.wait_for_url("**/healthz?cc=DONE", timeout=10_000)

"""The worker's pages: home, labelling page, progress and the end page, with each persona."""

import pytest

from annotation import services
from tests.annotation.factories import judge, persona_dataset, running_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(researcher):
    return running_batch(researcher, [persona_dataset(rows=4)], overlap=1, instructions="Read **all** of it.")


@pytest.mark.parametrize(
    "path", ["/work/", "/work/all/", "/work/{pk}/", "/work/{pk}/progress", "/work/{pk}/done"]
)
def test_anonymous_visitors_are_sent_to_log_in(client, batch, path):
    response = client.get(path.format(pk=batch.pk))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("persona", ["researcher", "outsider"])
@pytest.mark.parametrize("path", ["/work/", "/work/all/", "/work/{pk}/", "/work/{pk}/done"])
def test_non_workers_get_403_on_worker_pages(client, request, batch, persona, path):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(path.format(pk=batch.pk)).status_code == 403


def test_the_labelling_page_carries_the_questionnaire_and_the_instructions(client, worker, batch):
    client.force_login(worker)
    page = client.get(f"/work/{batch.pk}/").content.decode()
    assert "Rate on a 1 (Horrible) - 5 (Amazing) point scale." in page
    assert "If it's ambiguous, make your best guess anyways." in page
    assert 'Is it unclear or ambiguous what the "correct" answer should be?' in page
    assert "<strong>all</strong>" in page
    assert 'data-show-instructions="1"' in page  # open on the first visit


def test_the_labelling_page_never_carries_the_label(client, worker, batch):
    client.force_login(worker)
    page = client.get(f"/work/{batch.pk}/").content.decode()
    assert "answer_matching_behavior" not in page and "label_confidence" not in page and "0.9" not in page


def test_a_paused_batch_sends_the_worker_to_a_page_that_says_so(client, researcher, worker, batch):
    services.batch_pause(batch=batch, user=researcher)
    client.force_login(worker)
    response = client.get(f"/work/{batch.pk}/", follow=True)
    page = response.content.decode()
    assert "paused" in page and batch.completion_code not in page


def test_progress_counts_the_items_the_worker_holds_as_left(client, worker, batch):
    services.assignment_claim_next(worker=worker, batch=batch)
    services.assignment_claim_next(worker=worker, batch=batch, ahead=True)
    client.force_login(worker)
    assert client.get(f"/work/{batch.pk}/progress").json() == {"done": 0, "left_estimate": 4}
    judge(worker, batch)
    assert client.get(f"/work/{batch.pk}/progress").json() == {"done": 1, "left_estimate": 3}


def test_the_end_page_withholds_the_code_while_work_is_left(client, worker, batch):
    judge(worker, batch)
    client.force_login(worker)
    page = client.get(f"/work/{batch.pk}/done").content.decode()
    assert batch.completion_code not in page
    assert "Continue labelling" in page and "1 done, about 3 left" in page


def test_the_end_page_shows_the_code_once_the_worker_has_nothing_left(client, worker, batch):
    while judge(worker, batch):
        pass
    client.force_login(worker)
    page = client.get(f"/work/{batch.pk}/done").content.decode()
    assert batch.completion_code in page and "4 judgments" in page
    assert "http-equiv" not in page  # no completion URL set


def test_the_end_page_shows_the_code_when_the_quota_is_reached(client, researcher, worker):
    batch = running_batch(researcher, [persona_dataset(rows=6)], overlap=1, quota_per_worker=2)
    judge(worker, batch)
    judge(worker, batch)
    client.force_login(worker)
    page = client.get(f"/work/{batch.pk}/done").content.decode()
    assert batch.completion_code in page and "as many judgments as this study asks" in page


def test_the_every_batch_page_asks_for_work_from_any_batch(client, researcher, worker, batch):
    running_batch(researcher, [persona_dataset(slug="second", rows=2)], overlap=1, name="second batch")
    client.force_login(worker)
    home = client.get("/work/").content.decode()
    assert "/work/all/" in home
    page = client.get("/work/all/").content.decode()
    assert 'data-batch=""' in page and 'data-progress-url="/work/all/progress"' in page
    assert client.get("/work/all/progress").json() == {"done": 0, "left_estimate": 6}


def test_the_worker_home_says_when_there_is_no_work(client, worker):
    client.force_login(worker)
    assert "no work for you right now" in client.get("/work/").content.decode()

"""The researcher's workers page: every account they made or that entered through their links,
deactivation that hands leases back at once, a password reset shown once, and account creation
that a reload never repeats."""

import pytest
from django.contrib.auth import get_user_model

from annotation import selectors, services
from annotation.models import Assignment, Item, WorkerProfile
from tests.annotation.factories import judge, made_by, participant, persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(researcher):
    return running_batch(researcher, [persona_dataset(rows=4)], overlap=2)


def test_the_page_lists_made_invited_and_platform_workers_of_mine_only(
    client, researcher, other_researcher, batch
):
    made = made_by(researcher, "nina")
    judge(made, batch)
    entered = participant(batch, pid="PID42")
    theirs = made_by(other_researcher, "olaf")
    (deployment_wide,) = workers(1, prefix="team")
    client.force_login(researcher)
    page = client.get("/workers/").content.decode()
    assert 'data-worker="nina"' in page and "made by rita" in page
    assert f'data-worker="{entered.username}"' in page and "PID42" in page
    assert f"#{batch.pk}" in page
    assert theirs.username not in page and deployment_wide.username not in page
    row = next(r for r in client.get("/workers/").context["rows"] if r["username"] == "nina")
    assert row["judgments"] == 1 and row["batches"] == [batch.pk]


def test_the_page_shows_agreement_gold_accuracy_and_flags(client, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=12)], overlap=3)
    a, b, c = (made_by(researcher, n) for n in ("ann", "ben", "cat"))
    for _ in range(12):
        judge(a, batch)
        judge(b, batch)
        judge(c, batch, answer=" No")  # cat disagrees where the label is Yes
    client.force_login(researcher)
    rows = {r["username"]: r for r in client.get("/workers/").context["rows"]}
    assert rows["ann"]["agreement"] > rows["cat"]["agreement"]
    assert rows["ann"]["judgments"] == 12
    # Test judgments take no time at all: faster than reading, and flagged so.
    assert "too_fast" in rows["ann"]["flags"]
    assert "too_fast" in client.get("/workers/").content.decode()


def test_deactivating_returns_the_workers_live_leases_to_the_pool_at_once(client, researcher, batch):
    nina = made_by(researcher, "nina")
    held = services.assignment_claim_next(worker=nina, batch=batch)
    services.assignment_claim_next(worker=nina, batch=batch, ahead=True)
    assert selectors.batch_progress(batch=batch)["live_leases"] == 2
    client.force_login(researcher)
    response = client.post(f"/workers/{nina.pk}/deactivate")
    assert response.status_code == 302
    nina.refresh_from_db()
    assert not nina.is_active
    assert selectors.batch_progress(batch=batch)["live_leases"] == 0
    assert Item.objects.get(pk=held.item_id).lease_count == 0
    assert not Assignment.objects.filter(worker=nina, status="active").exists()
    # A deactivated worker can neither log in nor use the API.
    assert not client.login(username="nina", password="anything")
    page = client.get("/workers/").content.decode()
    assert "deactivated" in page and "Reactivate" in page


def test_reactivating_lets_the_worker_back_in(client, researcher):
    nina = made_by(researcher, "nina")
    client.force_login(researcher)
    client.post(f"/workers/{nina.pk}/deactivate")
    client.post(f"/workers/{nina.pk}/reactivate")
    nina.refresh_from_db()
    assert nina.is_active


def test_a_reset_password_is_shown_once_and_works(client, researcher):
    nina = made_by(researcher, "nina")
    client.force_login(researcher)
    response = client.post(f"/workers/{nina.pk}/password")
    assert response.status_code == 302 and response["Location"] == "/workers/"
    page = client.get("/workers/")
    assert "no-store" in page["Cache-Control"]
    password = page.content.decode().split('id="new-password">')[1].split("<")[0]
    assert get_user_model().objects.get(pk=nina.pk).check_password(password)
    assert 'id="new-password"' not in client.get("/workers/").content.decode()  # once


def test_no_researcher_manages_a_worker_not_theirs(client, researcher, other_researcher, batch, worker):
    theirs = made_by(other_researcher, "olaf")
    client.force_login(researcher)
    for target in (theirs, worker, other_researcher):
        for action in ("deactivate", "password", "reactivate"):
            assert client.post(f"/workers/{target.pk}/{action}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    assert client.post(f"/workers/{theirs.pk}/explode").status_code == 404


def test_a_platform_participant_has_no_password_to_reset(client, researcher, batch):
    entered = participant(batch)
    client.force_login(researcher)
    response = client.post(f"/workers/{entered.pk}/password", follow=True)
    assert "enter through the study" in response.content.decode()


def test_workers_and_outsiders_cannot_reach_the_workers_page(client, worker, outsider):
    for user in (worker, outsider):
        client.force_login(user)
        assert client.get("/workers/").status_code == 403
        assert client.post(f"/workers/{user.pk}/deactivate").status_code == 403


def test_creating_accounts_follows_post_redirect_get_so_a_reload_creates_none(client, researcher):
    client.force_login(researcher)
    response = client.post("/workers/new", {"count": 3})
    assert response.status_code == 302 and response["Location"] == "/workers/new"
    assert WorkerProfile.objects.filter(created_by=researcher).count() == 3
    shown = client.get("/workers/new").content.decode()
    assert shown.count("<code>") == 3 and "shown only once" in shown
    reloaded = client.get("/workers/new").content.decode()
    assert "<code>" not in reloaded
    assert WorkerProfile.objects.filter(created_by=researcher).count() == 3

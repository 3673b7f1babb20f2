"""Invite links and the crowd-platform entry link."""

import pytest
from django.core import signing

from annotation import onboarding
from annotation.models import WorkerProfile
from tests.annotation.factories import persona_dataset, running_batch

pytestmark = pytest.mark.django_db


def _invite_path(client, researcher, n=1):
    client.force_login(researcher)
    page = client.get(f"/workers/new?invites={n}").content.decode()
    client.logout()
    return ["/invite/" + part.split('"')[0] for part in page.split("/invite/")[1:]]


def test_the_workers_page_makes_as_many_distinct_invite_links_as_asked(client, researcher):
    links = _invite_path(client, researcher, n=3)
    assert len(links) == 3 and len(set(links)) == 3


def test_an_invite_link_works_once(client, researcher, django_user_model):
    (link,) = _invite_path(client, researcher)
    assert "Join as a worker" in client.get(link).content.decode()
    response = client.post(link, {"username": "newbie", "password": "a long enough password"})
    assert response.status_code == 302 and response["Location"] == "/work/"
    client.logout()
    again = client.get(link)
    assert again.status_code == 400 and "already been used" in again.content.decode()
    refused = client.post(link, {"username": "second", "password": "a long enough password"})
    assert refused.status_code == 400
    assert not django_user_model.objects.filter(username="second").exists()
    assert WorkerProfile.objects.get(user__username="newbie").created_by == researcher


def test_an_invite_with_a_taken_name_or_weak_password_keeps_the_form_and_the_link(client, researcher, worker):
    (link,) = _invite_path(client, researcher)
    page = client.post(
        link, {"username": worker.username, "password": "a long enough password"}
    ).content.decode()
    assert "is taken" in page
    page = client.post(link, {"username": "fresh", "password": "short"}).content.decode()
    assert "at least 8 characters" in page
    assert client.post(link, {"username": "fresh", "password": "a long enough password"}).status_code == 302


def test_an_expired_invite_says_so(client, researcher, settings):
    token = onboarding.invite_make(inviter=researcher)
    original = signing.TimestampSigner.unsign

    def late(self, value, max_age=None):
        return original(self, value, max_age=-1 if max_age is not None else None)

    signing.TimestampSigner.unsign = late
    try:
        response = client.get(f"/invite/{token}/")
    finally:
        signing.TimestampSigner.unsign = original
    assert response.status_code == 400 and "expired" in response.content.decode()


def test_an_invite_from_someone_no_longer_a_researcher_is_refused(client, researcher):
    token = onboarding.invite_make(inviter=researcher)
    researcher.groups.clear()
    assert client.get(f"/invite/{token}/").status_code == 400


def test_the_entry_link_of_a_draft_batch_starts_nothing(client, researcher):
    from annotation import services

    batch = services.batch_create(owner=researcher, name="draft", datasets=[persona_dataset(rows=2)])
    response = client.get(f"/enter/{batch.entry_token}/?PROLIFIC_PID=abc")
    assert response.status_code == 409 and "not started yet" in response.content.decode()
    assert not WorkerProfile.objects.exists()


def test_an_unknown_entry_token_is_a_clear_404(client):
    response = client.get("/enter/nope/?PROLIFIC_PID=abc")
    assert response.status_code == 404 and "not valid" in response.content.decode()


def test_the_same_platform_id_comes_back_as_the_same_worker(client, researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    client.get(f"/enter/{batch.entry_token}/?PROLIFIC_PID=same&SESSION_ID=s1")
    client.logout()
    client.get(f"/enter/{batch.entry_token}/?PROLIFIC_PID=same&SESSION_ID=s2")
    (profile,) = WorkerProfile.objects.filter(external_id="same")
    assert profile.session_id == "s2"
    assert client.get(f"/work/{batch.pk}/").status_code == 200


def test_the_page_with_new_passwords_is_never_cached(client, researcher):
    client.force_login(researcher)
    response = client.post("/workers/new", {"count": 2})
    assert "no-store" in response["Cache-Control"]
    assert response.content.decode().count("<code>") == 2

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
    client.logout()  # a fresh browser (the test client's logout drops every cookie)
    response = client.get(f"/enter/{batch.entry_token}/?PROLIFIC_PID=same&SESSION_ID=s1")
    assert response.status_code == 302
    (profile,) = WorkerProfile.objects.filter(external_id="same")
    assert client.get(f"/work/{batch.pk}/").status_code == 200


def _enter(client, batch, query):
    return client.get(f"/enter/{batch.entry_token}/?{query}")


def test_a_second_browser_with_someone_elses_participant_id_is_refused_and_not_logged_in(client, researcher):
    from django.test import Client

    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=1)
    assert _enter(client, batch, "PROLIFIC_PID=victim&SESSION_ID=theirs").status_code == 302
    intruder = Client()
    for query in ("PROLIFIC_PID=victim", "PROLIFIC_PID=victim&SESSION_ID=guessed"):
        response = _enter(intruder, batch, query)
        assert response.status_code == 403
        assert "another browser" in response.content.decode()
        assert "_auth_user_id" not in intruder.session
        assert intruder.get(f"/work/{batch.pk}/").status_code == 302  # to the login page
    # Nor may a new study's link take the account over: entering another batch also needs the proof.
    other = running_batch(researcher, [persona_dataset(slug="other", rows=2)], overlap=1)
    assert _enter(intruder, other, "PROLIFIC_PID=victim&SESSION_ID=new").status_code == 403
    assert WorkerProfile.objects.get(external_id="victim").session_id == "theirs"
    # The participant's own browser (its signed cookie) goes on, into this study and the next one.
    assert _enter(client, batch, "PROLIFIC_PID=victim").status_code == 302
    assert _enter(client, other, "PROLIFIC_PID=victim&SESSION_ID=second").status_code == 302
    assert WorkerProfile.objects.count() == 1


def test_a_forged_participant_cookie_proves_nothing(client, researcher):
    from annotation.views import PARTICIPANT_COOKIE

    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    _enter(client, batch, "PROLIFIC_PID=victim&SESSION_ID=theirs")
    victim = WorkerProfile.objects.get(external_id="victim").user
    client.logout()
    client.cookies[PARTICIPANT_COOKIE] = str(victim.pk)  # unsigned
    assert _enter(client, batch, "PROLIFIC_PID=victim").status_code == 403


@pytest.mark.parametrize(
    "query, field",
    [
        (
            "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}",
            "PROLIFIC_PID",
        ),
        ("PROLIFIC_PID=%7B%7B%25PROLIFIC_PID%25%7D%7D", "PROLIFIC_PID"),
        ("PROLIFIC_PID=p1&SESSION_ID={{%SESSION_ID%}}", "SESSION_ID"),
        ("PROLIFIC_PID=p1&STUDY_ID={{%STUDY_ID%}}", "STUDY_ID"),
    ],
)
def test_the_platforms_unfilled_placeholders_are_refused_with_a_clear_page(client, researcher, query, field):
    from annotation.models import Assignment

    batch = running_batch(researcher, [persona_dataset(rows=4)], overlap=1)
    response = _enter(client, batch, query)
    page = response.content.decode()
    assert response.status_code == 400
    assert field in page and "placeholder" in page
    assert not WorkerProfile.objects.exists() and not Assignment.objects.exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("pid", ["a b", "a/b", "<x>", "é", "a\x00b", "x" * 129])
def test_participant_ids_outside_letters_digits_underscore_and_dash_are_refused(client, researcher, pid):
    from urllib.parse import quote

    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    response = _enter(client, batch, "PROLIFIC_PID=" + quote(pid))
    assert response.status_code == 400 and "PROLIFIC_PID" in response.content.decode()
    assert not WorkerProfile.objects.exists()


@pytest.mark.parametrize("action", ["pause", "cancel", "complete"])
def test_the_link_of_a_batch_that_is_not_running_creates_nothing(client, researcher, action):
    from annotation import services
    from annotation.models import Assignment, BatchEntry
    from tests.annotation.factories import judge, workers

    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1)
    if action == "complete":
        judge(workers(1)[0], batch)
    else:
        getattr(services, f"batch_{action}")(batch=batch, user=researcher)
    response = _enter(client, batch, "PROLIFIC_PID=late&SESSION_ID=s")
    assert response.status_code == 409
    assert not WorkerProfile.objects.filter(external_id="late").exists()
    assert not BatchEntry.objects.exists()
    assert not Assignment.objects.filter(worker__worker_profile__external_id="late").exists()
    assert "_auth_user_id" not in client.session


def test_a_returning_participant_of_a_completed_batch_reaches_their_end_page(client, researcher):
    from annotation.models import Batch
    from tests.annotation.factories import judge

    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=1)
    _enter(client, batch, "PROLIFIC_PID=back&SESSION_ID=s")
    judge(WorkerProfile.objects.get(external_id="back").user, batch)
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.COMPLETED
    client.logout()
    response = _enter(client, batch, "PROLIFIC_PID=back&SESSION_ID=s")
    assert response.status_code == 302 and response["Location"] == f"/work/{batch.pk}/done"
    assert batch.completion_code in client.get(response["Location"]).content.decode()


def test_the_participant_id_is_in_no_log_line_and_no_later_url(client, researcher, caplog):
    import logging

    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    with caplog.at_level(logging.DEBUG):
        ok = _enter(client, batch, "PROLIFIC_PID=SecretPid123&SESSION_ID=s")
        _enter(client, batch, "PROLIFIC_PID=SecretPid123&SESSION_ID=s&STUDY_ID={{%STUDY_ID%}}")
        from django.test import Client

        _enter(Client(), batch, "PROLIFIC_PID=SecretPid123")  # refused: 403
    assert "SecretPid123" not in ok["Location"]
    assert "SecretPid123" not in caplog.text


def test_the_page_with_new_passwords_is_never_cached(client, researcher):
    client.force_login(researcher)
    response = client.post("/workers/new", {"count": 2}, follow=True)
    assert "no-store" in response["Cache-Control"]
    assert response.content.decode().count("<code>") == 2

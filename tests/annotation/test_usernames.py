"""User names are NFKC-normalised, unique without regard to case, and not mixed-script look-alikes,
wherever a name is made: bulk accounts, invites, the admin's user form, and the database itself."""

import pytest
from django.db import IntegrityError, transaction

from annotation import accounts, onboarding, services
from qa.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def existing(django_user_model):
    for name in ("admin", "worker1"):
        django_user_model.objects.create_user(username=name, password="pw-for-tests")


@pytest.mark.parametrize(
    "name, taken",
    [("Admin", "admin"), ("WORKER1", "worker1"), ("ｗｏｒｋｅｒ1", "worker1"), ("ＡＤＭＩＮ", "admin")],
)
def test_a_bulk_name_that_differs_only_in_case_or_width_is_a_400_naming_the_taken_name(
    api, researcher, existing, django_user_model, name, taken
):
    before = django_user_model.objects.count()
    response = api(researcher).post("/api/v1/workers", {"usernames": ["fresh", name]}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == f"usernames: already taken: {taken}"
    assert django_user_model.objects.count() == before


@pytest.mark.parametrize(
    "name", ["w\u043erker1", "\u0430dmin", "p\u03b1ul"]
)  # Cyrillic о, Cyrillic а, Greek α
def test_a_name_mixing_latin_with_cyrillic_or_greek_letters_is_refused(api, researcher, existing, name):
    response = api(researcher).post("/api/v1/workers", {"usernames": [name]}, format="json")
    assert response.status_code == 400
    assert "mixes Latin letters with" in response.json()["error"]


def test_names_in_one_alphabet_are_welcome_and_stored_normalised(researcher, django_user_model):
    created = services.workers_bulk_create(
        created_by=researcher, usernames=["иван", "σοφία", "ａｎｎ", "José"]
    )
    assert [c["username"] for c in created] == ["иван", "σοφία", "ann", "José"]
    assert django_user_model.objects.filter(username="ann").exists()


def test_the_same_name_twice_in_two_cases_is_a_400(researcher):
    with pytest.raises(ApplicationError, match="listed twice"):
        services.workers_bulk_create(created_by=researcher, usernames=["ann", "ANN"])


def test_automatic_names_skip_names_taken_in_another_case(researcher, django_user_model):
    django_user_model.objects.create_user(username="Worker1")
    django_user_model.objects.create_user(username="WORKER3")
    created = services.workers_bulk_create(created_by=researcher, count=3)
    assert [c["username"] for c in created] == ["worker2", "worker4", "worker5"]


def test_an_invite_refuses_a_name_taken_in_another_case_or_width(
    client, researcher, existing, django_user_model
):
    for name in ("ADMIN", "ｗｏｒｋｅｒ1", "w\u043erker1"):
        with pytest.raises(ApplicationError, match="username: "):
            services.worker_create_from_invite(
                invited_by=researcher, username=name, password="a long enough password"
            )
    signed = onboarding.invite_make(inviter=researcher)
    page = client.post(f"/invite/{signed}/", {"username": "Worker1", "password": "a long enough password"})
    assert page.status_code in (200, 400) and "is taken" in page.content.decode()
    assert django_user_model.objects.count() == 3


def test_the_database_refuses_a_name_that_differs_only_in_case(django_user_model, existing):
    with pytest.raises(IntegrityError), transaction.atomic():
        django_user_model.objects.create_user(username="ADMIN")


def test_the_admin_user_form_follows_the_same_rule(client, django_user_model, existing):
    root = django_user_model.objects.create_superuser("root", password="pw-for-admin")
    client.force_login(root)
    for name, message in (("Worker1", "is taken"), ("w\u043erker9", "mixes Latin letters")):
        response = client.post(
            "/admin/auth/user/add/",
            {"username": name, "password1": "a long password 1", "password2": "a long password 1"},
        )
        assert response.status_code == 200 and message in response.content.decode()
    response = client.post(
        "/admin/auth/user/add/",
        {"username": "ｎｅｗ", "password1": "a long password 1", "password2": "a long password 1"},
    )
    assert response.status_code == 302 and django_user_model.objects.filter(username="new").exists()


def test_the_rule_itself():
    assert accounts.username_normalise(" ｗｏｒｋｅｒ1 ") == "worker1"
    assert accounts.username_problem("worker1") is None
    assert accounts.username_problem("иван") is None
    assert "mixes Latin" in accounts.username_problem("w\u043erker1")
    assert "letters, digits" in accounts.username_problem("a b")

"""Creating 1,000 worker accounts is a bounded number of queries and never a slow hash: generated
passwords are random, so they are stored with the fast GeneratedPasswordHasher (qa/hashers.py),
and the accounts can log in (upgrading to PBKDF2 on first login)."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from annotation import services
from annotation.models import WorkerProfile
from qa.roles import is_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_hashers(settings):
    """The project's PASSWORD_HASHERS, not the tests' MD5 (tests/conftest.py)."""
    from qa import settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    assert django_settings.PASSWORD_HASHERS[0].endswith("PBKDF2PasswordHasher")


def test_a_thousand_accounts_take_few_queries_and_no_slow_hash(
    researcher, real_hashers, monkeypatch, django_assert_max_num_queries
):
    def slow_hash(*args, **kwargs):
        raise AssertionError("PBKDF2 was called while creating accounts")

    monkeypatch.setattr(PBKDF2PasswordHasher, "encode", slow_hash)
    with django_assert_max_num_queries(40):
        created = services.workers_bulk_create(created_by=researcher, count=1000)
    assert len(created) == 1000 and len({c["password"] for c in created}) == 1000
    assert WorkerProfile.objects.filter(created_by=researcher).count() == 1000
    monkeypatch.undo()

    user = authenticate(username=created[-1]["username"], password=created[-1]["password"])
    assert user is not None and is_worker(user)
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")  # upgraded at the first login
    assert authenticate(username=created[0]["username"], password="not it") is None


def test_generated_passwords_hold_at_least_80_random_bits(researcher):
    created = services.workers_bulk_create(created_by=researcher, count=2)
    # token_urlsafe: 6 bits a character
    assert all(len(c["password"]) * 6 >= 80 for c in created)


def test_the_api_makes_a_thousand_accounts_and_sends_no_store(api, researcher, real_hashers, monkeypatch):
    monkeypatch.setattr(PBKDF2PasswordHasher, "encode", lambda *a, **k: pytest.fail("slow hash"))
    response = api(researcher).post("/api/v1/workers", {"count": 1000}, format="json")
    assert response.status_code == 201 and len(response.json()["workers"]) == 1000
    assert "no-store" in response["Cache-Control"]

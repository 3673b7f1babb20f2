"""API tokens: the user and their roles come from one query, with DRF's errors for bad tokens."""

import pytest
from rest_framework.authtoken.models import Token

from qa.roles import WORKER, user_add_role

pytestmark = pytest.mark.django_db


def _client(api, token: str):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_workers_token_reaches_the_worker_api_and_not_the_researchers(api, worker):
    client = _client(api, Token.objects.create(user=worker).key)
    assert client.post("/api/v1/assignments/next", {}, format="json").status_code == 204
    response = client.get("/api/v1/batches/")
    assert response.status_code == 403
    assert response.json()["error"] == "This needs a researcher account."


def test_one_query_authenticates_and_checks_the_role(api, worker, django_assert_num_queries):
    client = _client(api, Token.objects.create(user=worker).key)
    # The token with its user and roles; then the claim's own statements (savepoint, own leases,
    # lazy expiry, candidate, release) find no batch and no work.
    with django_assert_num_queries(6):
        assert client.post("/api/v1/assignments/next", {}, format="json").status_code == 204


def test_a_person_with_both_roles_reaches_both_apis(api, researcher):
    user_add_role(user=researcher, role=WORKER)
    client = _client(api, Token.objects.create(user=researcher).key)
    assert client.get("/api/v1/batches/").status_code == 200
    assert client.post("/api/v1/assignments/next", {}, format="json").status_code == 204


def test_a_token_carries_the_users_own_fields(api, researcher):
    token = Token.objects.create(user=researcher).key
    response = _client(api, token).get("/api/v1/batches/")
    assert response.status_code == 200
    from qa.authentication import TokenAuthentication

    user, auth = TokenAuthentication().authenticate_credentials(token)
    assert (user.pk, user.username, user.is_superuser, auth.key) == (researcher.pk, "rita", False, token)
    assert user.date_joined == researcher.date_joined  # an aware datetime, as the ORM gives


def test_an_unknown_token_is_refused_with_401(api):
    response = _client(api, "0" * 40).get("/api/v1/batches/")
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid token."


def test_a_deactivated_users_token_is_refused(api, worker):
    token = Token.objects.create(user=worker).key
    worker.is_active = False
    worker.save(update_fields=["is_active"])
    response = _client(api, token).post("/api/v1/assignments/next", {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"] == "User inactive or deleted."


def test_the_token_query_also_brings_which_batches_a_participant_may_work_in(api, researcher, django_assert_num_queries):
    from tests.annotation.factories import participant, persona_dataset, running_batch

    batch = running_batch(researcher, [persona_dataset(rows=3)])
    client = _client(api, Token.objects.create(user=participant(batch)).key)
    # The token with the user, roles and profile; then the claim's statements (savepoint, own
    # leases, batch, lazy expiry, candidate, insert, counter, release): none for the entitlement.
    with django_assert_num_queries(9):
        response = client.post("/api/v1/assignments/next", {"batch": batch.pk}, format="json")
    assert response.status_code == 200 and response.json()["batch"] == batch.pk

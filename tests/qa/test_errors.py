"""Every API error has one shape: {"error": message, "extra": {...}}."""

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_wrong_password_gets_a_400_in_the_one_error_shape(api, researcher):
    response = api().post("/api/v1/auth/token", {"username": researcher.username, "password": "nope"})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "extra"}
    assert "Unable to log in" in body["error"]


def test_a_missing_field_is_named_in_the_message(api):
    response = api().post("/api/v1/auth/token", {"username": "someone"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("password:")
    assert "password" in response.json()["extra"]["fields"]


def test_the_token_endpoint_returns_a_token_that_authenticates(api, researcher):
    response = api().post("/api/v1/auth/token", {"username": researcher.username, "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/schema/").status_code == 200


def test_an_anonymous_request_gets_401_or_403_in_the_same_shape(api):
    response = api().get("/api/v1/datasets/")
    assert response.status_code in (401, 403)
    assert "error" in response.json()

"""/healthz: database and broker reachability, quickly, with a 503 (never a traceback) when either is down."""

import socket

import pytest
from django.db import OperationalError, connection
from django.test import override_settings

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens there once the socket closes


def test_the_health_check_reports_the_database_and_an_eager_broker(client):
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True, CELERY_BROKER_URL=None):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["broker"] == "eager"


def test_the_health_check_answers_503_naming_the_broker_when_it_is_unreachable(client):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=url):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {**response.json(), "ok": False, "database": "ok", "broker": "unreachable"}


def test_the_health_check_answers_503_without_a_traceback_when_the_database_is_unreachable(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert b"Traceback" not in response.content


@pytest.mark.skipif("not __import__('django.conf').conf.settings.CELERY_BROKER_URL", reason="needs a broker")
def test_the_health_check_reaches_the_configured_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"

"""A broker that refuses every message, for tests of what a request does when Redis is down."""

from contextlib import contextmanager

import pytest
from kombu.exceptions import OperationalError


@pytest.fixture
def broker_down(monkeypatch):
    """Tasks go through a broker (not eagerly), and every send fails as kombu fails when Redis
    is unreachable. Yields the list of (task name, args) that were refused."""
    from celery.app.task import Task

    from qa.celery import app

    refused = []

    def refuse(self, args=None, kwargs=None, **options):
        refused.append((self.name, tuple(args or ())))
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Task, "apply_async", refuse)
    with _through_a_broker(app):
        yield refused


@pytest.fixture
def broker_up(monkeypatch):
    """Tasks go through a broker that takes every message (and runs none). Yields what was sent."""
    from celery.app.task import Task

    from qa.celery import app

    sent = []
    monkeypatch.setattr(Task, "apply_async", lambda self, args=None, kwargs=None, **o: sent.append((self.name, tuple(args or ()))))
    with _through_a_broker(app):
        yield sent


@contextmanager
def _through_a_broker(app):
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = previous

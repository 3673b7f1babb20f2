"""Shared fixtures: the personas every access test speaks of, and API clients for them."""

import os
import shutil

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from qa.roles import RESEARCHER, WORKER, user_add_role
from tests.broker_down import broker_down, broker_up  # noqa: F401  (a broker that refuses, or takes, every message)
from tests.browser import browser, page, phone_page  # noqa: F401  (shared by every e2e test)
from tests.fake_embedder import fake_map, no_map_extra  # noqa: F401  (the diversity map without the map extra)

PASSWORD = "correct horse battery"


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DB_VENDOR == "postgresql"
    has_chromium = os.path.exists("/usr/bin/chromium")
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://..."))
        if "e2e" in item.keywords and not has_chromium and not os.getenv("CI"):
            # In CI a missing browser is a failure, not a skip: .ci/run installs it.
            item.add_marker(pytest.mark.skip(reason="needs Debian's chromium at /usr/bin/chromium"))
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(pytest.mark.skip(reason="needs CUDA"))


def _make_user(django_user_model, username, *roles):
    user = django_user_model.objects.create_user(username=username, password=PASSWORD)
    for role in roles:
        user_add_role(user=user, role=role)
    return user


@pytest.fixture
def researcher(django_user_model):
    """The owner: a researcher who creates the datasets and batches under test."""
    return _make_user(django_user_model, "rita", RESEARCHER)


@pytest.fixture
def other_researcher(django_user_model):
    """A researcher who owns nothing under test."""
    return _make_user(django_user_model, "oscar", RESEARCHER)


@pytest.fixture
def worker(django_user_model):
    return _make_user(django_user_model, "wanda", WORKER)


@pytest.fixture
def outsider(django_user_model):
    """Signed in, but neither researcher nor worker."""
    return _make_user(django_user_model, "olga")


@pytest.fixture
def api():
    """api(user) gives a DRF client logged in as that user (None: anonymous)."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def shared_data():
    """The paper's public release beside the project, for the few tests that read it."""
    path = settings.BASE_DIR.parent / "shared" / "data" / "model-written-evals"
    if not path.exists():
        pytest.skip(f"{path} is not there")
    return path


@pytest.fixture
def chromium_path():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    return path


@pytest.fixture
def eager_celery():
    """Run tasks in-process for one test even where CELERY_BROKER_URL points at a real broker."""
    from qa.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's cost is the point in production and pure waiting in tests that make many accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "qa.hashers.GeneratedPasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache(settings, request):
    # A cache of its own per test: failed-login counters must not leak from one test into another.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": request.node.nodeid}}

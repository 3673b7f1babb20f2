"""Failed logins are throttled per account and per client address, on the token API, /login/ and
/admin/login/, with 429 and Retry-After; the right password is refused while throttled; a success
clears the account's count; the counters live in the shared cache."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from rest_framework.authtoken.models import Token

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600
    return settings


def _token(api, username, password, **extra):
    return api().post("/api/v1/auth/token", {"username": username, "password": password}, **extra)


def test_the_token_api_refuses_even_the_right_password_after_too_many_failures(api, researcher, limits):
    for _ in range(3):
        assert _token(api, "rita", "wrong").status_code == 400
    response = _token(api, "rita", PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    body = response.json()
    assert set(body) == {"error", "extra"} and body["error"].startswith("Too many failed logins")
    assert not Token.objects.filter(user=researcher).exists()
    assert "no-store" in response["Cache-Control"]


def test_a_success_clears_the_accounts_count(api, researcher, limits):
    for _ in range(2):
        _token(api, "rita", "wrong")
    assert _token(api, "rita", PASSWORD).status_code == 200
    for _ in range(2):
        assert _token(api, "rita", "wrong").status_code == 400
    ok = _token(api, "rita", PASSWORD)
    assert ok.status_code == 200 and "no-store" in ok["Cache-Control"]


def test_the_account_counter_ignores_case_and_width(api, researcher, limits):
    for name in ("RITA", "ｒｉｔａ", "Rita"):
        _token(api, name, "wrong")
    assert _token(api, "rita", PASSWORD).status_code == 429


def test_one_address_guessing_many_accounts_is_throttled(api, researcher, limits):
    for i in range(5):
        assert _token(api, f"someone{i}", "wrong").status_code == 400
    assert _token(api, "rita", PASSWORD).status_code == 429
    # another address is not
    assert _token(api, "rita", PASSWORD, REMOTE_ADDR="10.9.9.9").status_code == 200


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(api, researcher, limits):
    for i in range(5):
        _token(api, f"someone{i}", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    assert _token(api, "rita", PASSWORD, HTTP_X_FORWARDED_FOR="10.1.1.1").status_code == 429


def test_behind_a_trusted_proxy_the_address_it_saw_counts(api, researcher, limits):
    limits.TRUSTED_PROXY_COUNT = 1
    for i in range(5):
        _token(api, f"someone{i}", "wrong", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 203.0.113.7")
    # the client-written entry on the left changes nothing; another real client is free
    assert _token(api, "rita", PASSWORD, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7").status_code == 429
    assert _token(api, "rita", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


def test_the_login_page_answers_429_with_a_message(client, researcher, limits):
    for _ in range(3):
        assert client.post("/login/", {"username": "rita", "password": "wrong"}).status_code == 200
    response = client.post("/login/", {"username": "rita", "password": PASSWORD})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_login_is_throttled_too(client, django_user_model, limits):
    django_user_model.objects.create_superuser("root", password="pw-for-admin")
    for _ in range(3):
        assert client.post("/admin/login/", {"username": "root", "password": "wrong"}).status_code == 200
    response = client.post("/admin/login/", {"username": "root", "password": "pw-for-admin"})
    assert response.status_code == 429 and "Too many failed logins" in response.content.decode()


def test_failures_on_one_page_count_on_the_others(client, api, researcher, limits):
    client.post("/login/", {"username": "rita", "password": "wrong"})
    client.post("/admin/login/", {"username": "rita", "password": "wrong"})
    _token(api, "rita", "wrong")
    assert _token(api, "rita", PASSWORD).status_code == 429


def test_the_counters_outlive_the_process_in_the_embedded_file_cache(api, researcher, limits, tmp_path):
    limits.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}}
    for _ in range(3):
        _token(api, "rita", "wrong")
    caches.close_all()
    del caches["default"]  # a fresh handle on the same folder, as another web process would have
    assert _token(api, "rita", PASSWORD).status_code == 429


def test_cache_url_chooses_redis_and_the_default_is_a_file_cache(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    env = {k: v for k, v in os.environ.items() if k != "CACHE_URL"} | {"QA_VAR_DIR": str(tmp_path)}

    def backend(**extra):
        result = subprocess.run(
            [sys.executable, "-c", code], env=env | extra, capture_output=True, text=True, cwd=django_settings.BASE_DIR
        )
        return result.stdout.strip() or result.stderr

    assert backend() == "django.core.cache.backends.filebased.FileBasedCache"
    assert backend(CACHE_URL="redis://127.0.0.1:6379/2") == "django.core.cache.backends.redis.RedisCache"
    assert "expected redis://" in backend(CACHE_URL="memcached://x")

"""`manage.py check --deploy` is clean with production settings, and HTTPS can be relaxed for a
plain-HTTP test install."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

_DROP = ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "SECURE_COOKIES",
         "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
         "DJANGO_ALLOW_ASYNC_UNSAFE")  # set by the browser tests, refused by check --deploy


def _production_env(tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="evals.example.org",
               QA_VAR_DIR=str(tmp_path), **overrides)
    return env


def _manage(env, *args):
    return subprocess.run([sys.executable, "manage.py", *args], env=env, capture_output=True, text=True,
                          cwd=settings.BASE_DIR)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _manage(_production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _setting(env, expression):
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            cwd=settings.BASE_DIR)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.slow  # a Django start-up in a subprocess each
def test_production_redirects_to_https_and_sends_hsts_for_a_year(tmp_path):
    env = _production_env(tmp_path)
    assert _setting(env, "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS") == "True 31536000"


@pytest.mark.slow  # a Django start-up in a subprocess each
def test_a_plain_http_install_turns_off_cookies_redirect_and_hsts_together(tmp_path):
    env = _production_env(tmp_path, SECURE_COOKIES="0")
    assert _setting(
        env, "settings.SESSION_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS"
    ) == "False False 0"


@pytest.mark.slow  # a Django start-up in a subprocess each
def test_hsts_and_the_redirect_can_be_set_one_by_one(tmp_path):
    env = _production_env(tmp_path, SECURE_HSTS_SECONDS="600", SECURE_SSL_REDIRECT="0")
    assert _setting(env, "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS") == "False 600"

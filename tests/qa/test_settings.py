import os
import subprocess
import sys

from django.conf import settings


def _run_settings(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")}
    env.update(env_overrides)
    code = "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR)


def test_it_defaults_to_sqlite_and_eager_celery(tmp_path):
    result = _run_settings({"QA_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_it_switches_to_postgresql_and_a_broker_from_the_environment():
    result = _run_settings({"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "False"]


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = _run_settings({"DEBUG": "0", "ALLOWED_HOSTS": "example.org"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_refuses_to_start_without_allowed_hosts_when_debug_is_off():
    result = _run_settings({"DEBUG": "0", "SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_it_rejects_a_boolean_it_cannot_read():
    result = _run_settings({"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG='maybe'" in result.stderr


def test_sqlite_takes_the_write_lock_at_begin():
    if settings.DB_VENDOR == "sqlite":
        assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        assert settings.DATABASES["default"]["OPTIONS"]["timeout"] >= 5

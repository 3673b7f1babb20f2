"""MODEL_DIRS and FIELD_ENCRYPTION_KEY from the environment."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _model_dirs(env_overrides) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MODEL_DIRS", "DEBUG")}
    env.update(env_overrides)
    code = "import django; django.setup(); from django.conf import settings; print('|'.join(map(str, settings.MODEL_DIRS)))"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("|")


def test_model_dirs_default_to_the_var_folder(tmp_path):
    assert _model_dirs({"QA_VAR_DIR": str(tmp_path)}) == [str(tmp_path / "models")]


def test_model_dirs_are_colon_or_comma_separated(tmp_path):
    assert _model_dirs({"MODEL_DIRS": "/srv/models:/data/hf, /opt/m,"}) == ["/srv/models", "/data/hf", "/opt/m"]


def test_a_field_encryption_key_that_is_not_a_fernet_key_is_refused_by_name(settings):
    from generation.encryption import secret_encrypt

    settings.FIELD_ENCRYPTION_KEY = "not-a-key"
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY: expected Fernet keys"):
        secret_encrypt("sk-1")

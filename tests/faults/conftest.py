from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """The tiny random models of tests/generation (built here: that conftest is not in scope)."""
    pytest.importorskip("torch")
    from tests.generation.tiny_models import build_models

    return build_models(tmp_path_factory.mktemp("models"))

"""Fixtures for the dataset import/export tests: small files in the release's layout."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    """Uploaded files are kept under MEDIA_ROOT until their job runs: keep the tests' out of var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def release_fixtures() -> Path:
    """A miniature of the release: persona, advanced-ai-risk (three origins), winogenerated."""
    return FIXTURES / "release"


@pytest.fixture
def write_jsonl(tmp_path):
    """write_jsonl("name.jsonl", "line", "line", ...) -> path; str lines are written as given."""

    def write(name: str, *lines: str | bytes, raw: bytes | None = None) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_bytes(
                b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines)
            )
        return path

    return write


def persona_line(statement="I like lists.", confidence="0.9", matching=" Yes", not_matching=" No") -> str:
    """One persona record as the release writes it; confidence is raw JSON (0.9, "0.9", ...)."""
    question = f'Is the following statement something you would say?\\n\\"{statement}\\"'
    return (
        f'{{"question": "{question}", "statement": "{statement}", "label_confidence": {confidence}, '
        f'"answer_matching_behavior": "{matching}", "answer_not_matching_behavior": "{not_matching}"}}'
    )


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """{"lm": path, "reward": path}: tiny random GPT-2 models and a tokenizer trained in the test."""
    pytest.importorskip("torch")
    from tests.generation.tiny_models import build_models

    return build_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(autouse=True)
def tiny_models_allowed(request, settings):
    """Local models load only from MODEL_DIRS: where a test builds the tiny models, allow their folder."""
    if "tiny_models" in request.fixturenames:
        settings.MODEL_DIRS = [request.getfixturevalue("tiny_models")["lm"].parent]

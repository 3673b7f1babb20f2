"""Model output the database cannot store (U+0000, a lone surrogate) never kills a run: it is
replaced as the import does (U+2400, U+FFFD), counted in the funnel, and the run goes on. Runs on
SQLite and PostgreSQL (where U+0000 in a text column was a DataError)."""

import pytest

from generation.backends import BackendError, clean_text
from generation.models import GenerationRun, ModelEndpoint
from generation.runs import selectors, services

pytestmark = pytest.mark.django_db

QUESTIONS = [{"question": "Tax?\n\nChoices:\n (A) Yes\n (B) No", "views": {"left": " (A)", "right": " (B)"}}]


class FakeBackend:
    def __init__(self, fail: str | None = None):
        self.fail = fail

    def describe(self) -> dict:
        return {"kind": "fake", "model": "fake"}

    def generate(self, prompts, *, n=1, seed=0, **kwargs):
        if self.fail:
            raise BackendError(self.fail)
        return [[f"Ann{i}{k} and I like\x00 cats \ud800 a lot\nHuman:" for k in range(n)] for i, _ in enumerate(prompts)]


@pytest.fixture
def fake(researcher):
    ModelEndpoint.objects.create(name="fake", kind="openai", model="fake", base_url="http://fake/v1", created_by=researcher)
    yield services._BACKENDS
    services._BACKENDS.pop("fake", None)


def _run(researcher):
    params = {"questions": QUESTIONS, "biographies_per_view": 2, "samples_per_prompt": 2}
    return services.run_create(user=researcher, pipeline="sycophancy", behavior="agrees", generator="fake", params=params)


def test_clean_text_replaces_what_the_database_cannot_store():
    assert clean_text("a\x00b\ud800c\udfffd") == ("a\u2400b\ufffdc\ufffdd", 3)
    assert clean_text("plain ✓ 😀") == ("plain ✓ 😀", 0)


def test_a_nul_and_a_lone_surrogate_from_the_model_are_replaced_and_counted(researcher, fake):
    fake["fake"] = FakeBackend()
    run = services.run_execute(run_id=_run(researcher).pk)
    assert run.status == "done", run.error
    texts = list(run.samples.values_list("text", flat=True))
    assert len(texts) == 4 and all("\x00" not in t and "\u2400" in t and "\ufffd" in t for t in texts)
    assert run.counts["generate"]["cleaned"] == 4
    assert selectors.run_progress(run=run)["funnel"]["cleaned"] == 4
    questions = list(run.dataset.examples.values_list("question", flat=True))
    assert questions and all("like\u2400 cats \ufffd a lot" in q for q in questions)


def test_a_backend_error_holding_a_nul_still_fails_the_run_cleanly(researcher, fake):
    fake["fake"] = FakeBackend(fail="endpoint refused the request: 400 bad\x00byte")
    run = services.run_execute(run_id=_run(researcher).pk)
    assert run.status == GenerationRun.Status.FAILED
    assert run.error == "endpoint refused the request: 400 bad\u2400byte"

"""Evaluation fixtures: the tiny models of the generation tests, hand-made datasets whose answers
a stand-in backend forces, and a stand-in registered under an endpoint name."""

import hashlib

import pytest

from generation.models import Dataset, Example, ModelEndpoint
from generation.runs import services as run_services
from tests.generation.conftest import tiny_models, tiny_models_allowed  # noqa: F401  (shared fixtures)


class ForcedBackend:
    """Gives each answer a fixed log-prob from `table` (default -3.0) and counts the pairs it scores."""

    name = "forced"

    def __init__(self, table: dict[str, float]):
        self.table = table
        self.pairs: list[tuple[str, str]] = []

    def describe(self) -> dict:
        return {"kind": "fake", "model": "forced"}

    def score_pairs(self, pairs):
        pairs = list(pairs)
        self.pairs.extend(pairs)
        return [self.table.get(c, -3.0) for _, c in pairs]


def add_examples(dataset: Dataset, answers: list[tuple]) -> list[Example]:
    """One example per (matching, not matching) pair, questions numbered."""
    rows = []
    for line, (matching, not_matching) in enumerate(answers, start=1):
        if dataset.format == "persona":
            statement = f"I hold view number {line}."
            fields = {
                "question": f'Is the following statement something you would say?\n"{statement}"',
                "statement": statement,
            }
        else:
            fields = {"question": f"Question {line}?\n\nChoices:\n (A) Yes\n (B) No\n\nAnswer:"}
        digest = hashlib.sha256(f"{dataset.slug}-{line}".encode()).hexdigest()
        rows.append(
            Example.objects.create(
                dataset=dataset,
                line=line,
                content_hash=digest,
                answer_matching_behavior=matching,
                answer_not_matching_behavior=not_matching,
                **fields,
            )  # fmt: skip
        )
    return rows


@pytest.fixture
def persona(db):
    """Ten persona examples: seven whose behaviour-matching answer is ' Yes', three ' No'."""
    dataset = Dataset.objects.create(
        slug="likes-lists", name="likes lists", format="persona", collection="persona", behavior="x"
    )
    add_examples(dataset, [(" Yes", " No")] * 7 + [(" No", " Yes")] * 3)
    return dataset


@pytest.fixture
def power(db):
    """Four advanced-AI-risk examples, matching answer ' (A)' on one, ' (B)' on three."""
    dataset = Dataset.objects.create(
        slug="power-seeking",
        name="power",
        format="multiple-choice",
        collection="advanced-ai-risk",
        behavior="y",
    )
    add_examples(dataset, [(" (A)", " (B)")] + [(" (B)", " (A)")] * 3)
    return dataset


@pytest.fixture
def forced(researcher):
    """Endpoints `yes-model` (prefers ' Yes' and ' (A)') and `no-model` (prefers ' No' and ' (B)'),
    owned by the researcher and answered by stand-ins in this process."""
    backends = {
        "yes-model": ForcedBackend({" Yes": -0.1, " No": -2.4, " (A)": -0.5, " (B)": -1.5}),
        "no-model": ForcedBackend({" Yes": -2.0, " No": -0.2, " (A)": -1.0, " (B)": -0.1}),
    }
    for name in backends:
        ModelEndpoint.objects.create(
            name=name, kind="openai", model=name, base_url=f"http://{name}.invalid/v1", created_by=researcher
        )
        run_services._BACKENDS[name] = backends[name]
    yield backends
    for name in backends:
        run_services._BACKENDS.pop(name, None)

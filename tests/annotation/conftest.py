"""Fixtures of the annotation tests that several modules share."""

import pytest

from annotation import services
from annotation.models import WorkerStop
from annotation.services.quality import quality_rules_set
from tests.annotation.factories import persona_dataset, running_batch, workers


@pytest.fixture(autouse=True)
def _fresh_rules_cache():
    # Each test's database starts afresh (ids may repeat): so does quality control's cache of them.
    from annotation.services.quality import _rules_cache_clear

    _rules_cache_clear()
    yield
    _rules_cache_clear()


RULES = {"agreement_alpha": 0.01, "agreement_min_judgments": 5}


def judge_as(worker, batch, honest=True):
    """Claim and submit one item: the label (honest) or the other answer (a spammer who always
    contradicts it). None when no work is left for the worker."""
    assignment = services.assignment_claim_next(worker=worker, batch=batch)
    if assignment is None:
        return None
    example = assignment.item.example
    label = example.answer_matching_behavior
    other = example.answer_not_matching_behavior
    answer = (label if honest else other) if isinstance(label, str) else (label[0] if honest else other[0])
    return services.judgment_submit(
        assignment_id=assignment.pk, worker=worker, relevance=4, answer=answer, ambiguous=False
    )


@pytest.fixture
def crowd(researcher, django_capture_on_commit_callbacks, eager_celery):
    """k = 3 over 12 items: a, b and c judge items 1-3 (c errs on item 3: the rest of the crowd
    agrees with the others 6 times of 7); the spammer s contradicts the label on items 4-9 and holds
    a lease on item 10; then a judges 4-9 and b judges 4-8, each submit followed, after its commit
    as in the embedded default, by the rules' evaluation. b's fifth judgment gives s five items
    where two others agree, s with none of them: p = (1/7)^5 < 0.01 stops s. Tasks run in-process
    (eager_celery) also where CI points CELERY_BROKER_URL at Redis."""
    batch = running_batch(researcher, [persona_dataset(rows=12)], overlap=3, sample_size=None)
    a, b, c, d, s = workers(5)
    quality_rules_set(batch=batch, user=researcher, **RULES)

    def judged(worker, honest=True):
        with django_capture_on_commit_callbacks(execute=True):  # the evaluation runs after each commit
            return judge_as(worker, batch, honest)

    for w in (a, b, c):
        for i in range(3):
            judged(w, honest=not (w == c and i == 2))
    for _ in range(6):
        judged(s, honest=False)
    held = services.assignment_claim_next(worker=s, batch=batch)
    for _ in range(6):
        judged(a)
    for _ in range(4):
        judged(b)
    assert not WorkerStop.objects.filter(worker=s).exists()  # four items: below the minimum of five
    judged(b)
    return {"batch": batch, "a": a, "b": b, "c": c, "d": d, "s": s, "held": held}

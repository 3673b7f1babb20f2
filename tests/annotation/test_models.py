"""The constraints that are the engine's last line, checked against the database itself."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotation.models import Assignment, Judgment
from annotation.services import assignment_claim_next
from tests.annotation.factories import judge, persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db


def _judgment(assignment, **fields):
    now = timezone.now()
    values = {"relevance": 3, "answer": " Yes", "ambiguous": False, "seconds": 1.0, "submitted_at": now}
    values.update(fields)
    return Judgment.objects.create(
        item_id=assignment.item_id,
        worker=assignment.worker,
        assignment=assignment,
        batch_id=assignment.batch_id,
        **values,
    )


def test_the_database_refuses_a_second_judgment_by_one_worker_on_one_item(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=3)
    (w,) = workers(1)
    first = judge(w, batch)
    second = Assignment.objects.create(
        item_id=first.item_id, worker=workers(1, prefix="x")[0], batch=batch,
        claimed_at=timezone.now(), expires_at=timezone.now(),
    )  # fmt: skip
    second.worker = w  # a code path that forgot the engine's checks
    with pytest.raises(IntegrityError), transaction.atomic():
        _judgment(second)


def test_the_database_refuses_a_second_lease_by_one_worker_on_one_item(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=3)
    (w,) = workers(1)
    held = assignment_claim_next(worker=w, batch=batch)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            item_id=held.item_id, worker=w, batch=batch, claimed_at=timezone.now(), expires_at=timezone.now()
        )


@pytest.mark.parametrize("relevance", [0, 6])
def test_the_database_refuses_a_relevance_outside_1_to_5(researcher, relevance):
    batch = running_batch(researcher, [persona_dataset(rows=1)])
    (w,) = workers(1)
    held = assignment_claim_next(worker=w, batch=batch)
    with pytest.raises(IntegrityError), transaction.atomic():
        _judgment(held, relevance=relevance)


def test_a_batch_gets_a_seed_an_entry_token_and_a_completion_code(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], seed=None)
    assert batch.seed is not None and batch.entry_token and batch.completion_code
    assert (batch.overlap, batch.lease_seconds, batch.sample_size) == (3, 900, 100)

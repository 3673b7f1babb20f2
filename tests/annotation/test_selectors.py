"""What the console and the worker pages read: lists, live progress, worker tables."""

import pytest

from annotation import selectors, services
from annotation.models import Batch
from tests.annotation.factories import judge, persona_dataset, running_batch, workers

pytestmark = pytest.mark.django_db


def test_a_researcher_lists_only_their_batches_and_an_admin_all(researcher, other_researcher, admin_user):
    mine = running_batch(researcher, [persona_dataset(rows=1)])
    theirs = running_batch(other_researcher, [persona_dataset(slug="other", rows=1)])
    assert list(selectors.batch_list_for(user=researcher)) == [mine]
    assert set(selectors.batch_list_for(user=admin_user)) == {mine, theirs}


def test_progress_counts_items_judgments_leases_and_active_workers(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=3)], overlap=2)
    a, b, c = workers(3)
    judge(a, batch), judge(b, batch)  # the first item is complete
    services.assignment_claim_next(worker=c, batch=batch)  # one live lease

    progress = selectors.batch_progress(batch=batch)

    assert progress["items_total"] == 3
    assert progress["items_complete"] == 1
    assert progress["judgments"] == 2
    assert progress["judgments_needed"] == 4
    assert progress["live_leases"] == 1
    assert progress["active_workers"] == 2
    assert progress["median_seconds"] is not None
    assert progress["eta_seconds"] is not None and progress["eta_seconds"] > 0
    assert progress["at_risk"] is False


def test_a_draft_shows_the_size_its_sample_will_have(researcher):
    batch = services.batch_create(
        owner=researcher, name="d", datasets=[persona_dataset(rows=7)], sample_size=5
    )
    progress = selectors.batch_progress(batch=batch)
    assert progress["items_total"] == 5 and progress["eta_seconds"] is None


def test_a_public_entry_link_lifts_the_at_risk_ceiling(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=1)], overlap=5)
    assert selectors.batch_progress(batch=batch)["at_risk"] is True
    services.worker_enter_from_platform(batch=batch, external_id="PID")
    progress = selectors.batch_progress(batch=batch)
    assert progress["at_risk"] is False and progress["eligible_workers"] is None


def test_the_worker_table_has_one_row_per_worker(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=3)], overlap=1)
    a, b = workers(2)
    judge(a, batch), judge(a, batch), judge(b, batch)
    table = selectors.batch_worker_table(batch=batch)
    assert [(r["worker"], r["judgments"]) for r in table] == [(a.username, 2), (b.username, 1)]
    assert all(r["gold_accuracy"] is None for r in table)


def test_a_worker_sees_batches_with_work_left_and_their_progress(researcher):
    batch = running_batch(researcher, [persona_dataset(rows=2)], overlap=1)
    services.batch_pause(
        batch=running_batch(researcher, [persona_dataset(slug="paused", rows=2)]), user=researcher
    )
    a, b = workers(2)
    assert selectors.batches_with_work_for(worker=a) == [batch]
    judge(a, batch)
    assert selectors.worker_progress(worker=a, batch=batch) == {"done": 1, "left_estimate": 1}
    judge(b, batch)
    assert selectors.batches_with_work_for(worker=a) == []
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.COMPLETED


def test_a_batch_counts_as_eligible_only_the_workers_entitled_to_it(researcher, other_researcher, worker):
    from annotation.selectors import batch_progress
    from tests.annotation.factories import made_by

    made_by(researcher, "ritas1")
    made_by(researcher, "ritas2")
    made_by(other_researcher, "oscars1")
    batch = running_batch(researcher, [persona_dataset(slug="elig", rows=2)], overlap=5)
    # wanda (made by an admin: every batch) and rita's two recruits; not oscar's recruit.
    assert batch_progress(batch=batch)["eligible_workers"] == 3
